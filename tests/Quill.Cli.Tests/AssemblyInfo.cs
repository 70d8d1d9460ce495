// Every test runs `quill` (and some zkCli.sh) as processes against one shared Keeper; on a 2-core machine running
// them one at a time keeps timeouts meaningful.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
