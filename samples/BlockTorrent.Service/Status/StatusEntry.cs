using System.Text.Json;

namespace BlockTorrent.Service.Status;

/// <summary>What every entry of the status board has: a state word, an error when it failed, and a lock that keeps a report and a read apart.</summary>
internal abstract class StatusEntry
{
    private string _state = "starting";
    private string? _error;

    /// <summary>Gets the lock that guards the entry's fields.</summary>
    protected Lock Sync { get; } = new();

    public string State
    {
        get
        {
            lock (Sync)
            {
                return _state;
            }
        }
    }

    public void SetState(string state, string? error = null)
    {
        lock (Sync)
        {
            _state = state;
            _error = error;
        }
    }

    /// <summary>Gets the error of a failed entry; the caller holds <see cref="Sync"/>.</summary>
    protected string? ErrorLocked => _error;

    /// <summary>Gets the state word; the caller holds <see cref="Sync"/>.</summary>
    protected string StateLocked => _state;

    /// <summary>Writes <c>state</c> and, when there is one, <c>error</c>; the caller holds <see cref="Sync"/>.</summary>
    protected void WriteState(Utf8JsonWriter json)
    {
        json.WriteString("state", _state);
        if (_error is not null)
        {
            json.WriteString("error", _error);
        }
    }
}
