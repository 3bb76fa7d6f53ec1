// Tests run one at a time: libtorch's default random generator is process-global, so a test that seeds it
// (resume equality, deterministic init) must not share the process with another test drawing from it;
// and every torch op already uses both cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
