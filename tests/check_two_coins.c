/* check_two_coins.c: the two-coin example of Do and Batzoglou (2008) through the binomial plugin:
 * the paper's rounded figures, and exact figures derived independently. */
#include <string.h>
#include "testutil.h"

/* theta_A, theta_B, w_A and the log-likelihood (log C(n, s) included) after iterations 1..10,
 * from tests/reference/two_coins.py: the EM formulas of the paper in Python's decimal arithmetic
 * at 50 digits, sharing no code with mixem.  Printed with 17 significant digits. */
static const double ref_fixed[10][4] = {
  { 0.71301223540051617, 0.58133930831366265, 0.5, -10.085982004452051 },
  { 0.74529203608199457, 0.5692557501718728, 0.5, -9.9498401355852497 },
  { 0.76809883436732118, 0.54953591413834779, 0.5, -9.8545514181388221 },
  { 0.7831645842999736, 0.53461745414752027, 0.5, -9.8116708989202071 },
  { 0.79105524586375264, 0.52628116702993188, 0.5, -9.7997816972158116 },
  { 0.79453253799369938, 0.52239043751787473, 0.5, -9.7974017798570081 },
  { 0.79592866724979849, 0.52072987808602578, 0.5, -9.7969991667048575 },
  { 0.79646563792252634, 0.52004718900298763, 0.5, -9.7969357706974183 },
  { 0.79666830789843934, 0.5197703896938074, 0.5, -9.7969260428072253 },
  { 0.79674414947521155, 0.51965866220411228, 0.5, -9.7969245597042374 },
};
static const double ref_learned[10][4] = {
  { 0.71301223540051617, 0.58133930831366265, 0.59739457021754805, -10.077380029739231 },
  { 0.73274531301881873, 0.55493782706280925, 0.59087598237108918, -9.9619885542083448 },
  { 0.75223000890339431, 0.53156082705796759, 0.58204399847732635, -9.8690392486527028 },
  { 0.76742179108724484, 0.51615981250314136, 0.57247096559303667, -9.822045601318095 },
  { 0.77711467342666851, 0.50872121360034306, 0.56364557652614877, -9.8054711246973572 },
  { 0.78267788488048018, 0.50627623981077186, 0.55616080052801087, -9.800227797886599 },
  { 0.78584966804623146, 0.50617548470228879, 0.55001328137798899, -9.7982283791332208 },
  { 0.78776967895408612, 0.50695066037484982, 0.54501059222940618, -9.7972124681871993 },
  { 0.78903405249761605, 0.5079480152010849, 0.54094463837955842, -9.7965990596156143 },
  { 0.78993264790310858, 0.50891430811093397, 0.53763641191817069, -9.7962036106976846 },
};

typedef struct {
  const mixem_family *f;
  double rows[10][4];
  int n;
} record;

static gboolean
keep (const mixem_iteration *it, const mixem_params *params, const double *w, void *data)
{
  record *r = data;
  for (size_t k = 0; k < 2; k++) {
    GVariant *d = g_variant_ref_sink (r->f->describe (params, k));
    g_variant_lookup (d, "p", "d", &r->rows[r->n][k]);
    g_variant_unref (d);
  }
  r->rows[r->n][2] = w[0];
  r->rows[r->n][3] = it->loglik;
  ck_assert_rel (it->elbo + it->kl, it->loglik, 1e-12);
  r->n++;
  return TRUE;
}

static void
fit_two_coins (gboolean fix_weights, record *rec)
{
  GError *err = NULL;
  mixem_registry *reg = mixem_registry_new ();
  const mixem_family *f = mixem_registry_lookup (reg, "binomial", &err);
  ck_assert_no_error (err);
  char *path = test_path ("data/two_coins.csv");
  mixem_dataset *data = mixem_dataset_read_csv (path, NULL, &err);
  ck_assert_no_error (err);
  double w0[2] = { 0.5, 0.5 };
  GVariant *start = g_variant_ref_sink (g_variant_new_parsed ("[{'p': <0.6>}, {'p': <0.5>}]"));
  mixem_options *fo = mixem_options_new ();
  mixem_options_set (fo, "trials", "trials");
  mixem_fit_options o;
  mixem_fit_options_init (&o);
  o.k = 2;
  o.max_iter = 10;
  o.tol = 0;
  o.family_options = fo;
  o.init_weights = w0;
  o.init_components = start;
  o.fix_weights = fix_weights;
  o.callback = keep;
  o.user_data = rec;
  rec->f = f;
  rec->n = 0;
  mixem_model *m = mixem_fit (f, data, &o, &err);
  ck_assert_no_error (err);
  ck_assert_int_eq (rec->n, 10);
  ck_assert_int_eq (mixem_model_n_iter (m), 10);
  ck_assert (!mixem_model_converged (m));
  ck_assert_uint_eq (mixem_model_n_params (m), fix_weights ? 2 : 3);
  mixem_model_free (m);
  mixem_options_free (fo);
  g_variant_unref (start);
  mixem_dataset_free (data);
  g_free (path);
  mixem_registry_free (reg);
}

START_TEST (test_two_coins_paper_values)
{
  /* Do and Batzoglou (2008), figure 1: 0.71/0.58 after one iteration, 0.80/0.52 after ten. */
  record rec;
  fit_two_coins (TRUE, &rec);
  ck_assert_double_eq_tol (rec.rows[0][0], 0.71, 0.01);
  ck_assert_double_eq_tol (rec.rows[0][1], 0.58, 0.01);
  ck_assert_double_eq_tol (rec.rows[9][0], 0.80, 0.01);
  ck_assert_double_eq_tol (rec.rows[9][1], 0.52, 0.01);
}
END_TEST

START_TEST (test_two_coins_exact_fixed_weights)
{
  record rec;
  fit_two_coins (TRUE, &rec);
  for (int t = 0; t < 10; t++)
    for (int j = 0; j < 4; j++)
      ck_assert_rel (rec.rows[t][j], ref_fixed[t][j], 1e-9);
}
END_TEST

START_TEST (test_two_coins_exact_learned_weights)
{
  record rec;
  fit_two_coins (FALSE, &rec);
  for (int t = 0; t < 10; t++)
    for (int j = 0; j < 4; j++)
      ck_assert_rel (rec.rows[t][j], ref_learned[t][j], 1e-9);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("two_coins");
  TCase *tc = tcase_create ("paper");
  tcase_add_test (tc, test_two_coins_paper_values);
  tcase_add_test (tc, test_two_coins_exact_fixed_weights);
  tcase_add_test (tc, test_two_coins_exact_learned_weights);
  suite_add_tcase (s, tc);
  return test_run (s);
}
