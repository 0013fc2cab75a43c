using Microsoft.Extensions.Logging;

namespace BlockTorrent.Tests.Writing;

/// <summary>A logger that keeps every entry, for tests that check what was logged.</summary>
internal sealed class ListLogger : ILogger
{
    private readonly List<(int EventId, LogLevel Level, string Message, Exception? Exception)> _entries = [];

    public IReadOnlyList<(int EventId, LogLevel Level, string Message, Exception? Exception)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries)
        {
            _entries.Add((eventId.Id, logLevel, formatter(state, exception), exception));
        }
    }
}
