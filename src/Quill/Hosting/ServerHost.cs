using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quill.Commands;

namespace Quill.Hosting;

/// <summary>A server that could not start: what it printed is said, and the command exits with this code.</summary>
public sealed class StartFailedException(int exitCode) : Exception($"start failed (exit code {exitCode})")
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>
/// One .NET Generic Host per process for the `start` commands: the servers are its hosted services, started in the
/// order given and stopped in reverse (so `quill start` stops the broker before the Keeper it depends on) when the
/// process gets SIGTERM or Ctrl+C, within <see cref="ShutdownTimeout"/>.
/// </summary>
public static class ServerHost
{
    /// <summary>How long stopping may take in all: each server stops accepting, drains its connections, closes its files.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Runs the services until the process is told to stop; the exit code.</summary>
    public static async Task<int> RunAsync(params IServerService[] services)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        // The servers log through their own factory (Logging.CreateFactory); the host adds no lines of its own.
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        foreach (var service in services) builder.Services.AddSingleton<IHostedService>(service);
        using var host = builder.Build();
        try
        {
            try
            {
                await host.StartAsync();
            }
            catch (StartFailedException e)
            {
                return e.ExitCode;
            }
            catch (OperationCanceledException)
            {
                // Told to stop while starting.
                return ExitCodes.Ok;
            }
            await host.WaitForShutdownAsync();
            return ExitCodes.Ok;
        }
        finally
        {
            // What a failed start left running (the host stops only what started), in reverse order.
            for (int i = services.Length - 1; i >= 0; i--) await services[i].DisposeAsync();
        }
    }
}

/// <summary>A server as a hosted service; disposing it stops the server if it still runs (idempotent).</summary>
public interface IServerService : IHostedService, IAsyncDisposable
{
}
