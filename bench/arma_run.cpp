// arma_run.cpp: Armadillo's gmm_full / gmm_diag on DIR/NAME.npy from DIR/NAME_init.f64.
// Usage: arma_run DIR NAME full|diag ITERS.  Prints "seconds_per_iteration mean_loglik
// iterations peak_rss_mib".  The start is given with set_params and learn(..., keep_existing,
// km_iter = 0, em_iter); seconds per iteration are (t(ITERS) - t(1)) / (ITERS - 1).  Armadillo
// floors the variances at var_floor (1e-10 here) where scikit-learn and mixem add reg_covar, so
// the log-likelihoods differ in the last digits.  Threads: OMP_NUM_THREADS.
#include <armadillo>
#include <cstdio>
#include <string>
#include "npyload.h"

template <typename G>
static double
run (G &model, const arma::mat &data, const arma::mat &means, const arma::cube &fcovs,
     const arma::mat &dcovs, const arma::rowvec &hefts, int iters)
{
  if constexpr (std::is_same_v<G, arma::gmm_full>)
    model.set_params (means, fcovs, hefts);
  else
    model.set_params (means, dcovs, hefts);
  const double t0 = now_seconds ();
  if (!model.learn (data, means.n_cols, arma::eucl_dist, arma::keep_existing, 0, iters, 1e-10,
                    false)) {
    std::fprintf (stderr, "arma_run: learn failed\n");
    std::exit (1);
  }
  return now_seconds () - t0;
}

int
main (int argc, char **argv)
{
  if (argc != 5) {
    std::fprintf (stderr, "usage: arma_run DIR NAME full|diag ITERS\n");
    return 2;
  }
  const std::string dir = argv[1], name = argv[2];
  const bool full = std::string (argv[3]) == "full";
  const int iters = std::atoi (argv[4]);
  size_t n, d;
  const double *x = npy_map ((dir + "/" + name + ".npy").c_str (), &n, &d);
  // N x D row-major is D x N column-major: one column per row, as Armadillo wants it.
  const arma::mat data (const_cast<double *> (x), d, n, false, true);
  arma::vec init;
  if (!init.load (dir + "/" + name + "_init.f64", arma::raw_binary)) {
    std::fprintf (stderr, "arma_run: cannot read the start\n");
    return 1;
  }
  const size_t k = full ? init.n_elem / (1 + d + d * d) : init.n_elem / (1 + 2 * d);
  arma::rowvec hefts (init.memptr (), k);
  arma::mat means (init.memptr () + k, d, k);   // K rows of D = D x K column-major
  arma::cube fcovs;
  arma::mat dcovs;
  if (full)
    fcovs = arma::cube (init.memptr () + k + k * d, d, d, k);
  else
    dcovs = arma::mat (init.memptr () + k + k * d, d, k);
  double t1, tn, ll;
  if (full) {
    arma::gmm_full a, b;
    t1 = run (a, data, means, fcovs, dcovs, hefts, 1);
    tn = run (b, data, means, fcovs, dcovs, hefts, iters);
    ll = b.avg_log_p (data);
  } else {
    arma::gmm_diag a, b;
    t1 = run (a, data, means, fcovs, dcovs, hefts, 1);
    tn = run (b, data, means, fcovs, dcovs, hefts, iters);
    ll = b.avg_log_p (data);
  }
  std::printf ("%.6f %.12g %d %.1f\n", (tn - t1) / (iters - 1), ll, iters, peak_rss_mib ());
  return 0;
}
