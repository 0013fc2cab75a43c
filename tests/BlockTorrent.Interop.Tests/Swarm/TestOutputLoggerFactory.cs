using Microsoft.Extensions.Logging;

namespace BlockTorrent.Interop.Tests.Swarm;

/// <summary>Sends BlockTorrent's logs to the running test's output, so a failing interop test shows what the engine saw.</summary>
internal sealed class TestOutputLoggerFactory : ILoggerFactory
{
    private readonly ITestOutputHelper? _output = TestContext.Current.TestOutputHelper;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(TestOutputLoggerFactory factory) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            try
            {
                factory._output?.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {formatter(state, exception)} {exception}");
            }
            catch (InvalidOperationException)
            {
                // The test finished while a background loop was still logging.
            }
        }
    }
}
