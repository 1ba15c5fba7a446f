/* lmixem.h: the mixem Lua 5.4 module, for embedding (the `mixem run` command preloads it) and for
 * stock lua5.4 (the same code built as mixem.so). */
#ifndef MIXEM_LMIXEM_H
#define MIXEM_LMIXEM_H

#include <lua.h>

int luaopen_mixem (lua_State *L);

/* lfamily.c: mixem.family{...} against the state's registry REG, and its metatables. */
struct mixem_registry;
int lmixem_family (lua_State *L, struct mixem_registry *reg);
void lmixem_family_open (lua_State *L);

#endif
