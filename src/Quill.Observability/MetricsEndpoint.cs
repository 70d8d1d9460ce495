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
/// One server's HTTP port for operators: <c>GET /metrics</c> is the Prometheus text exposition of the server's
/// <see cref="Meter"/>s (OpenTelemetry's exporter), <c>GET /health</c> answers 200 while <see cref="Serving"/> is set
/// and 503 otherwise; anything else is 404. Served by Kestrel, so a bad request is answered and the port keeps serving.
/// </summary>
public sealed class MetricsEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;
    private volatile bool _serving;

    private MetricsEndpoint(WebApplication app) => _app = app;

    /// <summary>The port actually bound (when the options asked for port 0).</summary>
    public int Port { get; private set; }

    /// <summary>What /health reports: set once the server answers requests, cleared when it starts stopping.</summary>
    public bool Serving
    {
        get => _serving;
        set => _serving = value;
    }

    /// <param name="meters">
    /// The meters to export. Only these instances are exported, not every meter of the same name, so several servers
    /// in one process (tests, `quill start`) each show their own numbers.
    /// </param>
    /// <param name="beforeScrape">
    /// Runs before each scrape, e.g. to copy state owned by one thread into what observable gauges read.
    /// </param>
    public static async Task<MetricsEndpoint> StartAsync(string host, int port, IReadOnlyCollection<Meter> meters,
        ILoggerFactory loggers, Func<CancellationToken, Task>? beforeScrape = null, CancellationToken ct = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        // The server's own logging, warnings and up (a line per scrape is noise).
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Warning).AddProvider(new ForwardingLoggerProvider(loggers));
        // The process belongs to the server: without this the web host takes SIGTERM/Ctrl+C for itself, stops only
        // this port, and the process never exits.
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        builder.WebHost.UseKestrel(k => k.Listen(ParseHost(host), port));
        builder.Services.AddOpenTelemetry().WithMetrics(m =>
        {
            foreach (var name in meters.Select(x => x.Name).Distinct()) m.AddMeter(name);
            m.AddView(instrument => meters.Contains(instrument.Meter) ? null : MetricStreamConfiguration.Drop);
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
        var endpoint = new MetricsEndpoint(app);
        if (beforeScrape is not null)
        {
            app.Use(async (context, next) =>
            {
                if (context.Request.Path == "/metrics") await beforeScrape(context.RequestAborted).ConfigureAwait(false);
                await next(context).ConfigureAwait(false);
            });
        }
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapGet("/health", () => endpoint.Serving
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
        endpoint.Port = new Uri(address).Port;
        return endpoint;
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
        _serving = false;
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Leaves signals and the process's lifetime to the server that owns this endpoint.</summary>
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
