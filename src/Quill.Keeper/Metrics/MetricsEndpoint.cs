using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Quill.Keeper.Metrics;

/// <summary>
/// Prometheus text exposition over HTTP (GET /metrics), like ZooKeeper's PrometheusMetricsProvider
/// (metricsProvider.httpPort): the mntr numbers as gauges plus a request latency histogram.
/// </summary>
public sealed class MetricsEndpoint : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly KeeperServer _server;
    private readonly ILogger _log;

    private MetricsEndpoint(KeeperServer server, ILogger log)
    {
        _server = server;
        _log = log;
    }

    public int Port { get; private set; }

    public static MetricsEndpoint Start(KeeperServer server, string host, int port, ILogger log)
    {
        var endpoint = new MetricsEndpoint(server, log) { Port = port };
        endpoint._listener.Prefixes.Add($"http://{host}:{port}/");
        endpoint._listener.Start();
        _ = endpoint.ServeAsync();
        log.LogInformation("Prometheus metrics on http://{Host}:{Port}/metrics", host, port);
        return endpoint;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync().ConfigureAwait(false); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            try
            {
                var body = Encoding.UTF8.GetBytes(await _server.Processor.QueryAsync(Render).ConfigureAwait(false));
                context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                context.Response.ContentLength64 = body.Length;
                await context.Response.OutputStream.WriteAsync(body).ConfigureAwait(false);
                context.Response.Close();
            }
            catch (Exception e)
            {
                _log.LogWarning(e, "Metrics request failed");
                try { context.Response.Abort(); } catch (ObjectDisposedException) { }
            }
        }
    }

    private string Render()
    {
        var sb = new StringBuilder();
        foreach (var (key, value) in _server.FourLetterWords.MetricValues())
        {
            if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) continue;
            sb.Append("# TYPE ").Append(key).Append(" gauge\n").Append(key).Append(' ').Append(value).Append('\n');
        }
        var m = _server.Processor.Metrics;
        sb.Append("# TYPE request_latency_ms histogram\n");
        long cumulative = 0;
        for (int i = 0; i < KeeperMetrics.Buckets.Length; i++)
        {
            cumulative += m.BucketCount(i);
            sb.Append(CultureInfo.InvariantCulture, $"request_latency_ms_bucket{{le=\"{KeeperMetrics.Buckets[i]}\"}} {cumulative}\n");
        }
        cumulative += m.BucketCount(KeeperMetrics.Buckets.Length);
        sb.Append(CultureInfo.InvariantCulture, $"request_latency_ms_bucket{{le=\"+Inf\"}} {cumulative}\n");
        sb.Append(CultureInfo.InvariantCulture, $"request_latency_ms_sum {m.LatencySumMs}\nrequest_latency_ms_count {m.LatencyCount}\n");
        return sb.ToString();
    }

    public void Dispose()
    {
        try { _listener.Stop(); _listener.Close(); } catch (ObjectDisposedException) { }
    }
}
