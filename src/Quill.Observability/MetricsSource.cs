using System.Diagnostics.Metrics;

namespace Quill.Observability;

/// <summary>
/// What one server gives the HTTP endpoint that exports it: its <see cref="System.Diagnostics.Metrics.Meter"/>, whether
/// it serves (what <c>/health</c> reports), and what to refresh before a scrape.
/// </summary>
public sealed class MetricsSource(Meter meter)
{
    private volatile bool _serving;

    public Meter Meter { get; } = meter;

    /// <summary>Set once the server answers requests, cleared when it starts stopping.</summary>
    public bool Serving
    {
        get => _serving;
        set => _serving = value;
    }

    /// <summary>Runs before each scrape, e.g. to copy state owned by one thread into what observable gauges read.</summary>
    public Func<CancellationToken, Task>? BeforeScrape { get; set; }

    /// <summary>
    /// Set before the server starts when the process's host exports this meter on its own port: the server then opens
    /// no metrics port of its own, and measures everything it would measure for one.
    /// </summary>
    public bool ExportedByHost { get; set; }
}
