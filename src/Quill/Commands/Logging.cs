using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Quill.Commands;

public static class Logging
{
    /// <summary>One line per message on stderr... except that operators expect server logs on stdout, as ZooKeeper's.</summary>
    public static ILoggerFactory CreateFactory(LogLevel level = LogLevel.Information) => LoggerFactory.Create(b => b
        .SetMinimumLevel(level)
        .AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff ";
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        }));
}
