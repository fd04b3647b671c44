# Simulator overhead: events per CPU second with toy nodes (see docs/sim.md).
add_executable(sim_bench ${CMAKE_CURRENT_LIST_DIR}/sim_bench.cc)
target_link_libraries(sim_bench PRIVATE tquic_sim benchmark::benchmark)
