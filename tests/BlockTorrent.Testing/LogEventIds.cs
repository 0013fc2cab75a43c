using System.Reflection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace BlockTorrent.Testing;

/// <summary>
/// Checks that the <see cref="LoggerMessageAttribute"/> methods of an assembly give every message its own event id:
/// an assembly's areas log through one logger, so a reader filtering by id must find one message only.
/// </summary>
public static class LogEventIds
{
    /// <summary>Fails, naming the methods, when two log messages of <paramref name="assembly"/> share an event id.</summary>
    /// <param name="assembly">The assembly whose log messages are checked.</param>
    /// <param name="atLeast">How many messages the assembly is known to have at least, so the check cannot pass on finding none.</param>
    public static void AssertUnique(Assembly assembly, int atLeast)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var messages = assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => (Method: $"{m.DeclaringType!.FullName}.{m.Name}", Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(m => m.Attribute is not null)
            .ToList();
        Assert.True(messages.Count >= atLeast, $"{assembly.GetName().Name} has {messages.Count} log messages, fewer than the {atLeast} it is known to have");
        string[] shared = [.. messages
            .GroupBy(m => m.Attribute!.EventId)
            .Where(g => g.Count() > 1)
            .Select(g => $"event id {g.Key}: {string.Join(", ", g.Select(m => m.Method))}")];
        Assert.True(shared.Length == 0, $"{assembly.GetName().Name} uses an event id twice: {string.Join("; ", shared)}");
    }
}
