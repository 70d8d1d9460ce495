using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

namespace Quill.Observability;

/// <summary>
/// An HTTP port for operators: <c>GET /metrics</c> is the Prometheus text exposition of the exported
/// <see cref="Meter"/>s (OpenTelemetry's exporter), <c>GET /health</c> answers 200 while every server behind the port
/// serves and 503 otherwise; anything else is 404. Served by Kestrel, so a bad request is answered and the port keeps
/// serving. One server's own port (<see cref="StartAsync(string, int, MetricsSource, ILoggerFactory, CancellationToken)"/>)
/// or the process host's port for all its servers.
/// </summary>
public sealed class MetricsEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;

    private MetricsEndpoint(WebApplication app) => _app = app;

    /// <summary>The port actually bound (when the options asked for port 0).</summary>
    public int Port { get; private set; }

    /// <summary>
    /// One server's own port. Only this meter instance is exported, not every meter of its name, so several servers in
    /// one process (tests) each show their own numbers.
    /// </summary>
    public static Task<MetricsEndpoint> StartAsync(string host, int port, MetricsSource source, ILoggerFactory loggers, CancellationToken ct = default) =>
        StartAsync(host, port, [source.Meter.Name], instrument => instrument.Meter == source.Meter, () => [source], loggers, ct);

    /// <param name="meterNames">The meters to export, by name.</param>
    /// <param name="exports">
    /// Narrows those to the instruments of given meter instances; null exports every meter of those names, which is
    /// what a host needs whose servers (and so their meters) are made after its port is up.
    /// </param>
    /// <param name="sources">
    /// The servers behind the port, read at each request; null stands for one not made yet. <c>/health</c> is 200 only
    /// when every one serves.
    /// </param>
    public static async Task<MetricsEndpoint> StartAsync(string host, int port, IReadOnlyCollection<string> meterNames,
        Func<Instrument, bool>? exports, Func<IReadOnlyList<MetricsSource?>> sources, ILoggerFactory loggers, CancellationToken ct = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        // The server's own logging, warnings and up (a line per scrape is noise).
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Warning).AddProvider(new ForwardingLoggerProvider(loggers));
        // The process belongs to the servers: without this the web host takes SIGTERM/Ctrl+C for itself, stops only
        // this port, and the process never exits.
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        builder.WebHost.UseKestrel(k => k.Listen(ParseHost(host), port));
        builder.Services.AddOpenTelemetry().WithMetrics(m =>
        {
            foreach (var name in meterNames.Distinct()) m.AddMeter(name);
            if (exports is not null) m.AddView(instrument => exports(instrument) ? null : MetricStreamConfiguration.Drop);
            m.AddPrometheusExporter(o =>
            {
                // Names are exactly the instruments' (they already carry Kafka's and ZooKeeper's suffixes); every
                // scrape is fresh; no OpenTelemetry-only series an operator's dashboards would not expect.
                o.TranslationStrategy = PrometheusAspNetCoreTranslationStrategy.UnderscoreEscapingWithoutSuffixes;
                o.ScrapeResponseCacheDurationMilliseconds = 0;
                o.ScopeInfoEnabled = false;
                o.TargetInfoEnabled = false;
            });
        });

        var app = builder.Build();
        var log = loggers.CreateLogger("Quill.Metrics");
        app.Use(async (context, next) =>
        {
            if (context.Request.Path == "/metrics" && !await RefreshAsync(sources(), log, context.RequestAborted).ConfigureAwait(false))
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                await context.Response.WriteAsync("metrics unavailable\n", context.RequestAborted).ConfigureAwait(false);
                return;
            }
            await next(context).ConfigureAwait(false);
        });
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapGet("/health", () => sources() is { Count: > 0 } all && all.All(s => s is { Serving: true })
            ? Results.Text("ok\n")
            : Results.Text("not serving\n", statusCode: StatusCodes.Status503ServiceUnavailable));
        try
        {
            await app.StartAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new MetricsEndpoint(app) { Port = new Uri(address).Port };
    }

    /// <summary>
    /// Runs each server's <see cref="MetricsSource.BeforeScrape"/>; false (the scrape is answered 503) when one fails:
    /// a scrape never turns a server's trouble into an exception, e.g. while the server stops.
    /// </summary>
    private static async Task<bool> RefreshAsync(IReadOnlyList<MetricsSource?> sources, ILogger log, CancellationToken ct)
    {
        foreach (var source in sources)
        {
            if (source?.BeforeScrape is not { } refresh) continue;
            try
            {
                await refresh(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                log.LogWarning("Metrics of {Meter} could not be read: {Reason}", source.Meter.Name, e.Message);
                return false;
            }
        }
        return true;
    }

    private static IPAddress ParseHost(string host) => host switch
    {
        "" or "0.0.0.0" or "*" => IPAddress.Any,
        "::" => IPAddress.IPv6Any,
        _ when IPAddress.TryParse(host, out var address) => address,
        _ => Dns.GetHostAddresses(host).First(),
    };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Leaves signals and the process's lifetime to the servers.</summary>
    private sealed class EmbeddedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>Hands the web host's log lines to the server's logger factory (which the host must not dispose).</summary>
    private sealed class ForwardingLoggerProvider(ILoggerFactory loggers) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => loggers.CreateLogger(categoryName);
        public void Dispose() { }
    }
}
