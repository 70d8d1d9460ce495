// Each end-to-end test runs three servers and a workload on a 2-core machine: one at a time keeps its timing meaningful.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
