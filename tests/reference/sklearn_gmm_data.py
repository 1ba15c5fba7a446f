#!/usr/bin/python3
"""sklearn_gmm_data.py: regenerates the data of scikit-learn's
sklearn/mixture/tests/test_gaussian_mixture.py (scikit-learn 1.2/1.3) for
tests/lua/test_sklearn_gmm.lua, without scikit-learn (it is not installed here).

Run with Debian's python3 (python3-numpy 1.24.2, python3-scipy 1.10.1):
    /usr/bin/python3 tests/reference/sklearn_gmm_data.py

scikit-learn's tests draw everything from numpy.random.RandomState(seed); this script makes the
same calls in the same order with the same seeds, so the arrays are the ones those tests see.
Two helpers of scikit-learn are restated here from their documented definitions:
  * make_spd_matrix(n, rng): A = rng.uniform(size=(n, n)); U, s, Vt = svd(A'A) (LAPACK gesdd
    through scipy.linalg.svd, as scikit-learn calls it); U (1 + diag(rng.uniform(size=n))) Vt
    (the 1 is added to every entry, as in scikit-learn).  Checked below against the example of
    scikit-learn 1.2's docstring: make_spd_matrix(n_dim=2, random_state=42) is
    [[2.09..., 0.34...], [0.34..., 0.21...]] (we get [[2.0942, 0.3462], [0.3462, 0.2178]]).
  * RandomData(rng, n_samples=200, n_components=2, n_features=2, scale=50): weights = rng.rand(K)
    normalised; means = rng.rand(K, D) * scale; covariances: spherical 0.5 + rng.rand(K), diag
    (0.5 + rng.rand(K, D))^2, tied make_spd_matrix(D, rng), full [make_spd_matrix(D, rng) * 0.5
    for each k]; then for each covariance type, X from a fresh RandomState(0): for each component
    k, round(w_k n) rows of rng0.multivariate_normal(mean_k, cov_k); labels Y are k for those rows.

Outputs (values written with 10 significant digits, to keep the files small; no check depends on
the digits beyond that):
  tests/data/sklearn_rd_<name>.csv  one RandomData: columns <type>_1.. <type>_D for each covariance
                                    type (full, tied, diag, spherical), then y (1-based label).
  tests/data/sklearn_misc.csv ...   the other arrays (see WRITES below).
  tests/reference/sklearn_gmm_fixtures.lua: each RandomData's weights, means, covariances and
                                    precisions, in mixem's component form, and row counts.
"""
import os

import numpy as np
from scipy import linalg

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(TOP, "tests", "data")
TYPES = ["full", "tied", "diag", "spherical"]


def make_spd_matrix(n_dim, rng):
    A = rng.uniform(size=(n_dim, n_dim))
    U, _, Vt = linalg.svd(A.T @ A, check_finite=False)
    return U @ (1.0 + np.diag(rng.uniform(size=n_dim))) @ Vt


def random_data(rng, n_samples=200, n_components=2, n_features=2, scale=50):
    w = rng.rand(n_components)
    w = w / w.sum()
    means = rng.rand(n_components, n_features) * scale
    cov = {
        "spherical": 0.5 + rng.rand(n_components),
        "diag": (0.5 + rng.rand(n_components, n_features)) ** 2,
        "tied": make_spd_matrix(n_features, rng),
        "full": np.array([make_spd_matrix(n_features, rng) * 0.5 for _ in range(n_components)]),
    }
    counts = [int(np.round(wk * n_samples)) for wk in w]
    X = {}
    for t in TYPES:
        rng0 = np.random.RandomState(0)
        parts = []
        for k in range(n_components):
            if t == "spherical":
                c = cov[t][k] * np.eye(n_features)
            elif t == "diag":
                c = np.diag(cov[t][k])
            elif t == "tied":
                c = cov[t]
            else:
                c = cov[t][k]
            parts.append(rng0.multivariate_normal(means[k], c, counts[k]))
        X[t] = np.vstack(parts)
    y = np.hstack([np.full(c, k) for k, c in enumerate(counts)])
    return dict(weights=w, means=means, cov=cov, X=X, y=y, counts=counts, D=n_features,
                K=n_components)


def fmt(v):
    return "%.10g" % v


def write_csv(name, header, rows):
    path = os.path.join(DATA, name)
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(fmt(v) if isinstance(v, float) else str(v) for v in r) + "\n")
    return path


def write_rd(name, rd, types=TYPES):
    D = rd["D"]
    header = ["%s_%d" % (t, j + 1) for t in types for j in range(D)] + ["y"]
    rows = []
    for i in range(len(rd["y"])):
        r = [float(rd["X"][t][i, j]) for t in types for j in range(D)]
        rows.append(r + [int(rd["y"][i]) + 1])
    write_csv("sklearn_rd_%s.csv" % name, header, rows)


def lua(v):
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(lua(x) for x in v) + "}"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def components(rd, t):
    """The true components in mixem's form (mean and precision), as scikit-learn's precisions_init."""
    out = []
    for k in range(rd["K"]):
        c = rd["cov"][t]
        if t == "full":
            P = linalg.inv(c[k])
        elif t == "tied":
            P = linalg.inv(c)
        elif t == "diag":
            P = np.diag(1.0 / c[k])
        else:
            P = np.eye(rd["D"]) / c[k]
        out.append("{mean = %s, precision = %s}" % (lua(rd["means"][k]), lua(P)))
    return "{" + ", ".join(out) + "}"


def fixture(name, rd):
    s = ["  %s = {" % name]
    s.append("    weights = %s," % lua(rd["weights"]))
    s.append("    counts = %s," % lua(rd["counts"]))
    s.append("    means = %s," % lua(rd["means"]))
    for t in TYPES:
        s.append("    %s = {cov = %s, components = %s}," % (t, lua(rd["cov"][t]), components(rd, t)))
    s.append("  },")
    return "\n".join(s)


def main():
    # The docstring example of make_spd_matrix: our restatement draws the same numbers.
    ex = make_spd_matrix(2, np.random.RandomState(42))
    assert np.array_equal(np.floor(ex * 100) / 100, [[2.09, 0.34], [0.34, 0.21]]), ex

    fixtures = []

    # RandomData(RandomState(0)): test_check_weights, test_check_means, test_check_precisions
    # (its first RandomData), test_compute_log_det_cholesky, test_gaussian_mixture_predict_predict_proba,
    # test_gaussian_mixture_fit, test_gaussian_mixture_fit_best_params, test_gaussian_mixture_verbose,
    # test_convergence_detected_with_warm_start, test_gaussian_mixture_all_init_does_not_estimate_...
    rd = random_data(np.random.RandomState(0))
    write_rd("seed0", rd)
    fixtures.append(fixture("seed0", rd))

    # test_check_precisions fits each covariance type on a further RandomData(rng) drawn from the
    # same rng; its checks are about validating precisions_init and do not depend on which data,
    # so the port uses seed0's data (one file less).

    # RandomData(RandomState(0), scale=5): test_gaussian_mixture_estimate_log_prob_resp (parameters
    # only; its X is rng.rand(n, 2) drawn next, written below), test_init_means_not_duplicated and
    # test_means_for_all_inits (at global_random_seed = 0), test_max_iter_zero.
    rng = np.random.RandomState(0)
    rd = random_data(rng, scale=5)
    write_rd("scale5", rd, ["full"])
    fixtures.append(fixture("scale5", rd))
    Xr = rng.rand(200, 2)   # n_samples of that RandomData
    write_csv("sklearn_log_prob_resp.csv", ["x1", "x2"], [[float(v) for v in row] for row in Xr])

    # RandomData(RandomState(0), scale=7): test_score, test_score_samples, test_monotonic_likelihood,
    # test_property.
    rd = random_data(np.random.RandomState(0), scale=7)
    write_rd("scale7", rd)
    fixtures.append(fixture("scale7", rd))

    # RandomData(RandomState(0), scale=7, n_components=3): test_sample.
    rd = random_data(np.random.RandomState(0), scale=7, n_components=3)
    write_rd("scale7_k3", rd)
    fixtures.append(fixture("scale7_k3", rd))

    # RandomData(RandomState(0), scale=1): test_gaussian_mixture_fit_convergence_warning.
    rd = random_data(np.random.RandomState(0), scale=1)
    write_rd("scale1", rd)

    # RandomData(RandomState(seed)) for seed 0, 1, 3, 4: test_gaussian_mixture_fit_predict
    # (seed 0 is the same as "seed0" above).
    for seed in (1, 3, 4):
        rd = random_data(np.random.RandomState(seed))
        write_rd("seed%d" % seed, rd)
        fixtures.append(fixture("seed%d" % seed, rd))

    # test_init: RandomData(RandomState(s), n_samples=50, scale=1), s = 0..14, the 'full' data.
    rows = []
    for s in range(15):
        rd = random_data(np.random.RandomState(s), n_samples=50, scale=1)
        for i in range(len(rd["y"])):
            rows.append([s, float(rd["X"]["full"][i, 0]), float(rd["X"]["full"][i, 1])])
    write_csv("sklearn_init.csv", ["seed", "x1", "x2"], rows)

    # RandomState(0).randn(50, 5): test_multiple_init and test_gaussian_mixture_n_parameters.
    X = np.random.RandomState(0).randn(50, 5)
    write_csv("sklearn_randn_50x5.csv", ["x%d" % (j + 1) for j in range(5)],
              [[float(v) for v in r] for r in X])
    # RandomState(0).randn(100, 1): test_bic_1d_1component.
    X = np.random.RandomState(0).randn(100, 1)
    write_csv("sklearn_randn_100x1.csv", ["x1"], [[float(v) for v in r] for r in X])
    # RandomState(0).randn(50, 3): test_gaussian_mixture_aic_bic.
    X = np.random.RandomState(0).randn(50, 3)
    write_csv("sklearn_randn_50x3.csv", ["x1", "x2", "x3"], [[float(v) for v in r] for r in X])
    # RandomState(0).randn(1000, 5): test_gaussian_mixture_fit_predict_n_init.
    X = np.random.RandomState(0).randn(1000, 5)
    write_csv("sklearn_randn_1000x5.csv", ["x%d" % (j + 1) for j in range(5)],
              [[float(v) for v in r] for r in X])
    # RandomState(seed).rand(500, 2), seed = 0, 1, 2: test_warm_start.
    cols = [np.random.RandomState(s).rand(500, 2) for s in (0, 1, 2)]
    write_csv("sklearn_warm_start.csv", ["s0_1", "s0_2", "s1_1", "s1_2", "s2_1", "s2_2"],
              [[float(v) for v in r] for r in np.hstack(cols)])
    # RandomState(0).uniform(size=(30, 3)): test_gaussian_mixture_setting_best_params.
    X = np.random.RandomState(0).uniform(size=(30, 3))
    write_csv("sklearn_best_params.csv", ["x1", "x2", "x3"], [[float(v) for v in r] for r in X])
    # test_gaussian_mixture_precisions_init_diag: RandomState(0).randn(300, 2) + (20, 20), then
    # RandomState's next randn(300, 2) times C = [[0, -0.7], [3.5, 0.7]].
    rng = np.random.RandomState(0)
    a = rng.randn(300, 2) + np.array([20, 20])
    b = rng.randn(300, 2) @ np.array([[0.0, -0.7], [3.5, 0.7]])
    write_csv("sklearn_precisions_init_diag.csv", ["x1", "x2"],
              [[float(v) for v in r] for r in np.vstack([a, b])])
    # test_gaussian_mixture_single_component_stable: RandomState(0).multivariate_normal(0, I, 3).
    X = np.random.RandomState(0).multivariate_normal(np.zeros(2), np.identity(2), size=3)
    write_csv("sklearn_single_component.csv", ["x1", "x2"], [[float(v) for v in r] for r in X])

    with open(os.path.join(HERE, "sklearn_gmm_fixtures.lua"), "w") as f:
        f.write("-- sklearn_gmm_fixtures.lua: written by tests/reference/sklearn_gmm_data.py (do not edit).\n")
        f.write("-- The true parameters of scikit-learn's RandomData draws, for tests/lua/test_sklearn_gmm.lua:\n")
        f.write("-- weights, row counts per component, means, and per covariance type the covariances (as\n")
        f.write("-- scikit-learn holds them) and the components in mixem's form {mean =, precision =}.\n")
        f.write("return {\n" + "\n".join(fixtures) + "\n}\n")


if __name__ == "__main__":
    main()
