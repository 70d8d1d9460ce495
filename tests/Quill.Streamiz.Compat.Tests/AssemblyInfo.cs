// One broker process serves the tests; running applications side by side on a two-core machine only makes each slower.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
