// Every test runs `quill` processes against one shared broker; on a 2-core machine one at a time keeps timeouts meaningful.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
