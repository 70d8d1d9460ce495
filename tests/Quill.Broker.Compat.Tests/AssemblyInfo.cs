// Every test class starts its own broker process; running them all at once on a two-core machine only makes each slower.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
