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

void lmx_open_aux (lua_State *L);
void lmx_open_datasets (lua_State *L);
void lmx_open_models (lua_State *L);
void lmx_push_plots (lua_State *L);
extern const luaL_Reg lmx_dataset_functions[];
extern const luaL_Reg lmx_fit_functions[];
extern const luaL_Reg lmx_model_functions[];

#endif
