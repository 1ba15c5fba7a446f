/* lmx.h: what the files of the Lua binding share (not installed): the userdata types and their
 * metatable names, and the helpers each file uses of the others.  One file a part of the module,
 * as Lua's own libraries are one file each:
 *   laux.c      scratch (temporaries freed by __gc), the state's registry, Lua <-> GVariant
 *               values, option tables;
 *   ldataset.c  datasets: mixem.read_csv, read_npy, dataset, mpi and the dataset's methods;
 *   lfit.c      mixem.fit, mixem.select, model:refit and model:partial_fit, and the engine
 *               options they share;
 *   lmodel.c    mixem.model, mixem.load, the model's methods and fields;
 *   lplot.c     mixem.plot;
 *   lfamily.c   mixem.family (families written in Lua);
 *   lmixem.c    the remaining module functions and luaopen_mixem. */
#ifndef MIXEM_LMX_H
#define MIXEM_LMX_H

#include <lua.h>
#include <lauxlib.h>
#include <mixem/mixem.h>

#define DATASET_MT "mixem.dataset"
#define MODEL_MT "mixem.model"
#define REGISTRY_MT "mixem.registry"
#define SCRATCH_MT "mixem.scratch"
/* Where the state keeps its one registry userdata: not under REGISTRY_MT, which names its
 * metatable (luaL_checkudata in the __gc compares against that). */
#define REGISTRY_KEY "mixem.registry.instance"
/* Parameters nest a few levels (components, a component, a matrix, a row); a table that
 * contains itself recursed forever, and one nested 100 000 deep overflowed the C stack.  This walk
 * refuses both before anything is built (so that no builder is left behind by the error). */
#define LUA_VALUE_MAX_DEPTH 16

typedef struct { mixem_dataset *ds; } ldataset;
typedef struct { mixem_model *m; } lmodel;
typedef struct { mixem_registry *reg; } lregistry;
typedef struct { GPtrArray *items; } lscratch;   /* pairs: pointer, GDestroyNotify */

/* laux.c, ldataset.c, lmodel.c, lfit.c, lplot.c: helpers the other parts use. */
lscratch *lmx_scratch_new (lua_State *L);
gpointer lmx_scratch_keep (lscratch *s, gpointer p, GDestroyNotify free_fn);
void lmx_variant_unref0 (gpointer v);
void lmx_options_free0 (gpointer o);
void lmx_dataset_free0 (gpointer d);
int lmx_raise_gerror (lua_State *L, const char *fn, GError *err);
mixem_registry *lmx_push_registry (lua_State *L);
void lmx_check_value_nesting (lua_State *L, int idx, const char *fn, const char *what,
                              const void **path, int depth);
GVariant *lmx_lua_to_variant (lua_State *L, int idx, const char *fn, const char *what);
void lmx_push_variant (lua_State *L, GVariant *v);
gboolean lmx_is_array (lua_State *L, int idx);
void lmx_check_keys (lua_State *L, int idx, const char *fn, const char *const *known,
                     const mixem_family *family);
lua_Integer lmx_opt_int (lua_State *L, int idx, const char *fn, const char *key, lua_Integer def,
                         lua_Integer lo, const char *what);
int lmx_opt_cint (lua_State *L, int idx, const char *fn, const char *key, int def, int lo,
                  const char *what);
double lmx_opt_num (lua_State *L, int idx, const char *fn, const char *key, double def);
double lmx_opt_real (lua_State *L, int idx, const char *fn, const char *key, double def);
const char *lmx_opt_str (lua_State *L, int idx, const char *fn, const char *key, lscratch *s);
const char *lmx_family_opt_str (lua_State *L, int idx, const char *fn, const char *key,
                                lscratch *s);
char **lmx_column_list (lua_State *L, int idx, const char *fn, const char *key, lscratch *s);
ldataset *lmx_check_dataset (lua_State *L, int idx);
void lmx_push_dataset (lua_State *L, mixem_dataset *ds);
void lmx_push_strings (lua_State *L, const char *const *v, size_t n);
lmodel *lmx_check_model (lua_State *L, int idx);
void lmx_push_model (lua_State *L, mixem_model *m, int reg_idx);
void lmx_push_iteration (lua_State *L, const mixem_iteration *it);
const mixem_family *lmx_family_arg (lua_State *L, const char *fn, const char *const *known,
                                    mixem_registry *reg, lscratch *s);
int lmx_m_refit (lua_State *L);
int lmx_m_partial_fit (lua_State *L);
int lmx_rank_zero_only (lua_State *L);
const mixem_dataset *lmx_model_data (lua_State *L, const mixem_model *m, int idx, const char *fn,
                                     lscratch *s);
gint lmx_compare_str (gconstpointer a, gconstpointer b);

/* Each part's opening and module functions. */
void lmx_open_aux (lua_State *L);
void lmx_open_datasets (lua_State *L);
void lmx_open_models (lua_State *L);
void lmx_push_plots (lua_State *L);
extern const luaL_Reg lmx_dataset_functions[];
extern const luaL_Reg lmx_fit_functions[];
extern const luaL_Reg lmx_model_functions[];

#endif
