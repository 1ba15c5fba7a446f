#!/bin/sh
# stock.sh: runs tests/lua/test_stock.lua in the stock lua5.4 interpreter with the module from
# the build tree (after `make install`, LUA_CPATH needs no help).
set -e
builddir=${MIXEM_TEST_BUILDDIR:?}
LUA_CPATH="$builddir/lua/.libs/?.so;;"
LD_LIBRARY_PATH="$builddir/src/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LUA_CPATH LD_LIBRARY_PATH
exec lua5.4 "${MIXEM_TEST_SRCDIR:?}/tests/lua/test_stock.lua"
