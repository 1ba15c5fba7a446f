/* fuzz_lua.c: libFuzzer target for the Lua conversion of option tables.  The input is decoded
 * into a Lua value (numbers, including huge integers and NaN, strings from the options' own
 * names, booleans, nested tables, and tables that contain themselves), which is then given, as
 * the options table, to mixem.fit, mixem.model, mixem.select, mixem.dataset and mixem.family,
 * each under pcall: every input must end in a result or a Lua error, never a crash or a hang
 * (issue 18, items 4 and 11). */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <lauxlib.h>
#include <lualib.h>
#include "fuzz_util.h"
#include "../../src/lua/lmixem.h"

typedef struct {
  const uint8_t *data;
  size_t size, pos;
} input;

static unsigned
next (input *in)
{
  return in->pos < in->size ? in->data[in->pos++] : 0;
}

static const char *const keys[] = {
  "family", "k", "data", "init", "components", "weights", "fixed", "max_iter", "tol", "n_init",
  "seed", "threads", "columns", "block_size", "algorithm", "reseed", "covariance", "trials",
  "mean", "cov", "var", "p", "mu", "lambda", "verbose", "quiet", "refine_tol", "n_refine",
  "criterion", "folds", "names", "name", "form", "stats", "n_stats", "params", "reg_covar",
  "binomial", "gaussian", "bernoulli", "poisson", "random", "kmeans", "cem", "full", "diag",
};

/* Pushes the value the input describes next; ANCESTORS (a Lua array at that index) holds the
 * tables being filled, so that a value may refer back to one (a cycle). */
static void
push_value (lua_State *L, input *in, int depth, int ancestors)
{
  const unsigned b = next (in);
  switch (b % 9) {
  case 0:
    lua_pushinteger (L, (lua_Integer) (int8_t) next (in));
    break;
  case 1: {
    static const double special[] = { 0.5, -1e300, 1e300, 1e-300, 4294967298.0, 0.0 };
    const unsigned c = next (in);
    lua_pushnumber (L, c < 6 ? special[c] : c == 6 ? NAN : c == 7 ? INFINITY : c / 7.0);
    break;
  }
  case 2:
    lua_pushstring (L, keys[next (in) % G_N_ELEMENTS (keys)]);
    break;
  case 3:
    lua_pushboolean (L, next (in) & 1);
    break;
  case 4:
  case 5: {
    if (depth > 12) {
      lua_pushinteger (L, 1);
      break;
    }
    const unsigned n = next (in) % 6;
    lua_newtable (L);
    lua_pushvalue (L, -1);
    lua_rawseti (L, ancestors, depth + 1);
    for (unsigned i = 0; i < n; i++) {
      const unsigned kk = next (in);
      if (kk & 1)
        lua_pushstring (L, keys[(kk >> 1) % G_N_ELEMENTS (keys)]);
      else
        lua_pushinteger (L, (lua_Integer) (kk >> 1) % 5 + 1);
      push_value (L, in, depth + 1, ancestors);
      lua_rawset (L, -3);
    }
    break;
  }
  case 6:   /* a table being filled: the value contains itself */
    if (lua_rawgeti (L, ancestors, 1 + (int) (next (in) % (unsigned) (depth + 1))) == LUA_TNIL) {
      lua_pop (L, 1);
      lua_pushinteger (L, 2);
    }
    break;
  case 7: {
    static const lua_Integer big[] = { (lua_Integer) 1 << 62, ((lua_Integer) 1 << 32) + 2,
                                       -1, INT32_MAX, (lua_Integer) INT32_MAX + 1, LUA_MAXINTEGER };
    lua_pushinteger (L, big[next (in) % G_N_ELEMENTS (big)]);
    break;
  }
  default:
    lua_pushnil (L);
  }
}

static const char script[] =
  "local mx, opts, X = ...\n"
  "local t = type(opts) == 'table' and opts or {opts}\n"
  "if t.data == true then t.data = X end\n"
  "pcall(mx.fit, t)\n"
  "pcall(mx.model, t)\n"
  "pcall(mx.select, t)\n"
  "pcall(mx.dataset, t)\n"
  "pcall(mx.family, t)\n"
  "if type(t.data) ~= 'userdata' then t.data = X; pcall(mx.fit, t) end\n";

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  (void) fuzz_file (data, 0, ".lua");   /* GSL's error handler off */
  lua_State *L = luaL_newstate ();
  luaL_openlibs (L);
  if (luaL_loadbuffer (L, script, sizeof script - 1, "fuzz") != LUA_OK)
    abort ();
  luaL_requiref (L, "mixem", luaopen_mixem, 0);             /* mx */
  input in = { data, size, 0 };
  lua_newtable (L);
  const int ancestors = lua_gettop (L);
  push_value (L, &in, 0, ancestors);                          /* opts */
  lua_remove (L, ancestors);
  /* X: a small dataset of two columns that every family here can read. */
  lua_getfield (L, -2, "dataset");
  lua_newtable (L);
  for (int i = 1; i <= 6; i++) {
    lua_createtable (L, 2, 0);
    lua_pushinteger (L, i % 3);
    lua_rawseti (L, -2, 1);
    lua_pushinteger (L, 2 + i % 2);
    lua_rawseti (L, -2, 2);
    lua_rawseti (L, -2, i);
  }
  if (lua_pcall (L, 1, 1, 0) != LUA_OK)
    abort ();
  lua_pcall (L, 3, 0, 0);   /* a Lua error is an answer; only a crash is a failure */
  lua_close (L);
  return 0;
}
