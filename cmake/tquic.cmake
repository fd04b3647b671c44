# Shared compile settings and helpers for every TQUIC target.

add_library(tquic_options INTERFACE)
target_compile_options(tquic_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow
  -Wno-missing-field-initializers)
if(TQUIC_WERROR)
  target_compile_options(tquic_options INTERFACE -Werror)
endif()
target_include_directories(tquic_options INTERFACE ${PROJECT_SOURCE_DIR}/src)
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # libstdc++ 12 hides <expected> unless __cpp_concepts >= 202002; clang 16 implements what
  # <expected> needs (P0848) but still reports 201907.
  target_compile_options(tquic_options INTERFACE -U__cpp_concepts -D__cpp_concepts=202002L
    -Wno-builtin-macro-redefined)
endif()
if(TQUIC_SANITIZE)
  set(_san -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  # -O1, as the ASan documentation advises: the suite runs about twice as fast as at -O0 (it is
  # the longest part of CI) and reports stay exact with the frame pointer kept. -g1 (line
  # tables, no variable info): ASan and UBSan reports keep function, file and line, and the
  # build costs 25-30 % less CPU than at -g (docs/ci-time.md); debug in gdb with the debug
  # preset.
  target_compile_options(tquic_options INTERFACE ${_san} -O1 -g1)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12's -Wmaybe-uninitialized misfires on instrumented optimised code (std::regex's
    # std::function members); the release build keeps that warning as an error.
    target_compile_options(tquic_options INTERFACE -Wno-maybe-uninitialized)
  endif()
  target_link_options(tquic_options INTERFACE ${_san})
endif()
if(TQUIC_FUZZ)
  target_compile_options(tquic_options INTERFACE -fsanitize=fuzzer-no-link,address,undefined
    -fno-omit-frame-pointer -DTQUIC_FUZZING=1)
  target_link_options(tquic_options INTERFACE -fsanitize=address,undefined)
endif()

# tquic_library(NAME SOURCES... [DEPS libs...])
function(tquic_library name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  if(A_SOURCES)
    add_library(${name} STATIC ${A_SOURCES})
    target_link_libraries(${name} PUBLIC tquic_options ${A_DEPS})
  else()  # header-only so far
    add_library(${name} INTERFACE)
    target_link_libraries(${name} INTERFACE tquic_options ${A_DEPS})
  endif()
endfunction()

# tquic_test(NAME LABEL unit|sim|interop|e2e SOURCES... [DEPS libs...] [TIMEOUT s] [NO_UNITY])
# One gtest binary; each TEST() becomes a ctest test carrying LABEL. NO_UNITY: its sources are
# compiled one by one even in a unity build (docs/ci-time.md).
function(tquic_test name)
  cmake_parse_arguments(A "NO_UNITY" "LABEL;TIMEOUT" "SOURCES;DEPS" ${ARGN})
  if(TQUIC_FUZZ)
    return()
  endif()
  if(NOT A_LABEL)
    set(A_LABEL unit)
  endif()
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 300)
  endif()
  add_executable(${name} ${A_SOURCES})
  if(A_NO_UNITY)
    set_target_properties(${name} PROPERTIES UNITY_BUILD OFF)
  endif()
  target_link_libraries(${name} PRIVATE tquic_options ${A_DEPS} GTest::gtest_main GTest::gmock)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)  # support/*.h
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS ${A_LABEL} TIMEOUT ${A_TIMEOUT})
endfunction()

# tquic_fuzz(NAME SOURCES... [DEPS libs...])
# With TQUIC_FUZZ (clang): a libFuzzer binary, run for a bounded time as a ctest labelled
# "fuzz". Otherwise: the same target linked with a replay driver that feeds it every seed in
# fuzz/corpus/NAME, so the gcc and ASan builds keep the seeds as regression tests.
set(TQUIC_FUZZ_SECONDS 10 CACHE STRING "Seconds each fuzz target runs in the test suite")
function(tquic_fuzz name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  set(corpus ${PROJECT_SOURCE_DIR}/fuzz/corpus/${name})
  if(TQUIC_FUZZ)
    if(NOT TARGET fuzz_all)
      # What the fuzz preset builds: the targets and the libraries they link, not the tools.
      add_custom_target(fuzz_all)
    endif()
    add_executable(fuzz_${name} ${A_SOURCES})
    add_dependencies(fuzz_all fuzz_${name})
    target_link_libraries(fuzz_${name} PRIVATE tquic_options ${A_DEPS})
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    set(work ${CMAKE_BINARY_DIR}/fuzz-work/${name})
    add_test(NAME fuzz_${name}
      COMMAND ${CMAKE_COMMAND} -E env sh -c
        "mkdir -p ${work} && $<TARGET_FILE:fuzz_${name}> -max_total_time=${TQUIC_FUZZ_SECONDS} -rss_limit_mb=2048 -malloc_limit_mb=256 -timeout=10 -print_final_stats=1 ${work} ${corpus}")
    set_tests_properties(fuzz_${name} PROPERTIES LABELS fuzz TIMEOUT 600)
  else()
    add_executable(fuzz_${name} ${A_SOURCES} ${PROJECT_SOURCE_DIR}/fuzz/replay_main.cc)
    target_link_libraries(fuzz_${name} PRIVATE tquic_options ${A_DEPS})
    add_test(NAME fuzz_replay_${name} COMMAND fuzz_${name} ${corpus})
    set_tests_properties(fuzz_replay_${name} PROPERTIES LABELS "fuzz;unit")
  endif()
endfunction()
