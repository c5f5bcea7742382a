# Joins the ES modules of web/herald/ into herald.js, the one classic script the server serves
# as /herald.js, and copies web/index.html beside it: OUT becomes a complete --web-root.
#
#   cmake -DOUT=build/web -P cmake/bundle_web.cmake      (then: herald --web-root build/web)
#
# Only cmake, no node: the build must not need a JavaScript toolchain. The join is plain text
# work, which is why the modules keep to what survives being put into one function scope:
#   - an import is one line, `import { a, b } from './x.js';`, of a module listed before
#     this one in cmake/web_modules.cmake, naming what that module exports (no `as`, no
#     default or namespace imports); the bundle drops these lines;
#   - an export is the word `export` before a top-level class, function, const or let; the
#     bundle drops the word;
#   - a top-level name is declared by one module only (they share the bundle's scope).
# Anything else is a fatal error naming the module, never a bundle that breaks in the browser.
# The bundle wraps the modules, in the listed order, in one strict-mode function that sets
# globalThis.Herald, so it works as a classic <script> and as `import '/herald.js'` alike.
# Same sources, same bytes: nothing in it depends on the time, the machine or the directory.
#
# WEB_DIR (default: web/ of this repository) and MODULES (default: cmake/web_modules.cmake)
# exist for tests/web/bundle.test.mjs, which feeds the checks broken modules.
cmake_minimum_required(VERSION 3.21)

if(NOT OUT)
  message(FATAL_ERROR "usage: cmake -DOUT=<directory> -P cmake/bundle_web.cmake")
endif()
if(NOT WEB_DIR)
  get_filename_component(WEB_DIR "${CMAKE_CURRENT_LIST_DIR}/../web" ABSOLUTE)
endif()
if(NOT DEFINED MODULES)
  include("${CMAKE_CURRENT_LIST_DIR}/web_modules.cmake")
  set(MODULES ${HERALD_WEB_MODULES})
endif()
set(module_dir "${WEB_DIR}/herald")

# A module file nobody listed would be missing from the bundle without a word.
file(GLOB_RECURSE found RELATIVE "${module_dir}" "${module_dir}/*.js")
foreach(file IN LISTS found)
  if(NOT file IN_LIST MODULES)
    message(FATAL_ERROR "bundle_web: web/herald/${file} is not listed in cmake/web_modules.cmake")
  endif()
endforeach()

set(name_pattern "[A-Za-z_$][A-Za-z0-9_$]*")
set(declaration_pattern "\n(export )?(async function|function|class|const|let|var) ${name_pattern}")
set(done "")
set(declared "")
set(body "")
foreach(module IN LISTS MODULES)
  set(where "bundle_web: web/herald/${module}")
  if(NOT EXISTS "${module_dir}/${module}")
    message(FATAL_ERROR "${where}: listed in cmake/web_modules.cmake but there is no such file")
  endif()
  file(READ "${module_dir}/${module}" source)
  # Every pattern below starts at a newline: a leading one lets them see the first line too.
  set(source "\n${source}")
  # Semicolons would split the matches below into CMake list items; the checks need none.
  string(REPLACE ";" "" scan "${source}")
  get_filename_component(here "${module}" DIRECTORY)

  string(REGEX MATCHALL "\nimport[^\n]*" imports "${scan}")
  foreach(line IN LISTS imports)
    string(STRIP "${line}" line)
    if(NOT line MATCHES "^import { (${name_pattern}(, ${name_pattern})*) } from '([^']+)'$")
      message(FATAL_ERROR "${where}: `${line}`: imports must read `import { a, b } from './x.js'`")
    endif()
    string(REPLACE ", " ";" names "${CMAKE_MATCH_1}")
    set(specifier "${CMAKE_MATCH_3}")
    if(NOT specifier MATCHES "^\\.\\.?/")
      message(FATAL_ERROR "${where}: imports '${specifier}': only modules of web/herald/ can be joined")
    endif()
    if(here)
      cmake_path(SET target NORMALIZE "${here}/${specifier}")
    else()
      cmake_path(SET target NORMALIZE "${specifier}")
    endif()
    if(NOT target IN_LIST done)
      message(FATAL_ERROR "${where}: imports ${target}, which cmake/web_modules.cmake does not list before it")
    endif()
    string(MAKE_C_IDENTIFIER "${target}" key)
    foreach(name IN LISTS names)
      if(NOT name IN_LIST exports_${key})
        message(FATAL_ERROR "${where}: imports ${name}, which ${target} does not export")
      endif()
    endforeach()
  endforeach()

  string(REGEX MATCHALL "\nexport[^\n]*" exports "${scan}")
  string(MAKE_C_IDENTIFIER "${module}" key)
  set(exports_${key} "")
  foreach(line IN LISTS exports)
    string(STRIP "${line}" line)
    if(NOT line MATCHES "^export (async function|function|class|const|let) (${name_pattern})")
      message(FATAL_ERROR "${where}: `${line}`: only `export` before a top-level class, function, const or let can be joined")
    endif()
    list(APPEND exports_${key} "${CMAKE_MATCH_2}")
  endforeach()

  string(REGEX MATCHALL "${declaration_pattern}" declarations "${scan}")
  foreach(declaration IN LISTS declarations)
    string(REGEX REPLACE ".* " "" name "${declaration}")
    if(DEFINED declared_by_${name})
      message(FATAL_ERROR "${where}: declares ${name}, as web/herald/${declared_by_${name}} does: in the bundle they would share one scope")
    endif()
    set(declared_by_${name} "${module}")
  endforeach()

  string(REGEX REPLACE "\nimport [^\n]*" "" source "${source}")
  string(REGEX REPLACE "\nexport (async function|function|class|const|let) " "\n\\1 " source "${source}")
  string(REGEX REPLACE "\n\n\n+" "\n\n" source "${source}")
  string(STRIP "${source}" source)
  string(APPEND body "\n// -------------------------------------------------------------------------------------------\n// web/herald/${module}\n\n${source}\n")
  list(APPEND done "${module}")
endforeach()

set(bundle "/*
 * herald.js — the browser client of the Herald v1 protocol (docs/web-client.md).
 *
 * Generated by cmake/bundle_web.cmake from the ES modules in web/herald/: do not edit this
 * file, edit those. A classic script that also works as an ES module import; either way it
 * defines globalThis.Herald, and it needs nothing else.
 */
(function () {
  'use strict';
${body}
// A CommonJS loader (require) gets the same object as its module.exports.
if (typeof module === 'object' && module && typeof module.exports === 'object') module.exports = globalThis.Herald;
})();
")

file(MAKE_DIRECTORY "${OUT}")
# Written aside and renamed, so that a server reading OUT (--web-root) never sees half a file.
file(WRITE "${OUT}/herald.js.tmp" "${bundle}")
file(RENAME "${OUT}/herald.js.tmp" "${OUT}/herald.js")
file(COPY_FILE "${WEB_DIR}/index.html" "${OUT}/index.html")
