// Each test class starts real servers and JVM-based tools; on a 2-core machine running them one class at a time
// keeps start-up timeouts meaningful.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
