/* two_coins.c: the two-coin example of Do and Batzoglou, "What is the expectation maximization
 * algorithm?", Nature Biotechnology 26:897-899 (2008), through the public C API.
 * Five sets of ten tosses; each set from coin A or coin B, picked with probability 1/2; EM from
 * theta_A = 0.60, theta_B = 0.50.  Prints, per iteration, theta_A, theta_B, the log-likelihood,
 * the ELBO and KL(q || p(z|x,theta)), with the paper's figures beside; then the same with the
 * mixing weights learned.  Usage: two_coins [DATA.csv]   (default data/two_coins.csv) */
#include <stdio.h>
#include <stdlib.h>
#include <gsl/gsl_errno.h>
#include <mixem/mixem.h>

static double
component_p (const mixem_params *params, const mixem_family *f, size_t k)
{
  GVariant *d = g_variant_ref_sink (f->describe (params, k));
  double p = 0.0;
  g_variant_lookup (d, "p", "d", &p);
  g_variant_unref (d);
  return p;
}

typedef struct {
  const mixem_family *family;
  gboolean paper;   /* the paper's figures are for fixed weights only */
} table;

static gboolean
print_row (const mixem_iteration *it, const mixem_params *params, const double *w, void *data)
{
  const table *t = data;
  const char *paper = !t->paper ? "" : it->iter == 1 ? "   0.71   0.58"
                                     : it->iter == 10 ? "   0.80   0.52" : "";
  printf ("%4d  %7.4f  %7.4f  %5.3f  %11.6f  %11.6f  %10.3e%s\n", it->iter,
          component_p (params, t->family, 0), component_p (params, t->family, 1), w[0],
          it->loglik, it->elbo, it->kl, paper);
  return TRUE;
}

static mixem_model *
fit (const mixem_family *f, const mixem_dataset *data, gboolean fix_weights, GError **error)
{
  double w0[2] = { 0.5, 0.5 };
  GVariantBuilder b;
  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  g_variant_builder_add_parsed (&b, "{'p': <0.6>}");
  g_variant_builder_add_parsed (&b, "{'p': <0.5>}");
  GVariant *start = g_variant_ref_sink (g_variant_builder_end (&b));
  mixem_options *fo = mixem_options_new ();
  mixem_options_set (fo, "trials", "trials");
  table t = { f, fix_weights };

  mixem_fit_options o;
  mixem_fit_options_init (&o);
  o.k = 2;
  o.max_iter = 10;
  o.tol = 0.0;                 /* run all ten iterations, as the paper does */
  o.family_options = fo;
  o.init_weights = w0;
  o.init_components = start;
  o.fix_weights = fix_weights;
  o.callback = print_row;
  o.user_data = &t;

  printf ("iter  theta_A  theta_B  w_A     log-lik         ELBO          KL%s\n",
          fix_weights ? "     paper A    B" : "");
  printf ("   0  %7.4f  %7.4f  %5.3f\n", 0.6, 0.5, 0.5);
  mixem_model *m = mixem_fit (f, data, &o, error);
  g_variant_unref (start);
  mixem_options_free (fo);
  return m;
}

int
main (int argc, char **argv)
{
  gsl_set_error_handler_off ();
  const char *path = argc > 1 ? argv[1] : "data/two_coins.csv";
  GError *error = NULL;
  mixem_registry *reg = mixem_registry_new ();
  mixem_dataset *data = NULL;
  mixem_model *m1 = NULL, *m2 = NULL;
  int status = 1;

  const mixem_family *f = mixem_registry_lookup (reg, "binomial", &error);
  if (!f)
    goto out;
  const char *cols[] = { "heads", "trials", NULL };
  mixem_csv_options csv = { .columns = cols };
  data = mixem_dataset_read_csv (path, &csv, &error);
  if (!data)
    goto out;

  printf ("Two coins (Do & Batzoglou 2008): %s, %zu sets of tosses\n"
          "log-lik includes log C(n, s); ELBO + KL = log-lik in every row.\n\n"
          "Mixing weights fixed at 1/2:\n", path, mixem_dataset_rows (data));
  if (!(m1 = fit (f, data, TRUE, &error)))
    goto out;
  printf ("\nMixing weights learned (start 1/2):\n");
  if (!(m2 = fit (f, data, FALSE, &error)))
    goto out;
  printf ("\nFixed weights: log-lik %.6f, BIC %.4f (%zu free parameters)\n",
          mixem_model_loglik (m1), mixem_model_bic (m1, data, NULL), mixem_model_n_params (m1));
  printf ("Learned weights: log-lik %.6f, BIC %.4f (%zu free parameters)\n",
          mixem_model_loglik (m2), mixem_model_bic (m2, data, NULL), mixem_model_n_params (m2));
  status = 0;
out:
  if (error) {
    fprintf (stderr, "two_coins: %s\n", error->message);
    g_error_free (error);
  }
  mixem_model_free (m1);
  mixem_model_free (m2);
  mixem_dataset_free (data);
  mixem_registry_free (reg);
  return status;
}
