using System.Net;
using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Discovery;

/// <summary>
/// Two network namespaces created for one test and joined by a veth pair: <c>lsd0</c> (10.231.0.1/24) in
/// <see cref="A"/> and <c>lsd1</c> (10.231.0.2/24) in <see cref="B"/>, multicast routed through the link. Multicast
/// never touches the host's interfaces. Both namespaces are deleted by name on dispose.
/// </summary>
internal sealed class LinkedNamespaces : IAsyncDisposable
{
    private LinkedNamespaces(NetworkNamespace a, NetworkNamespace b)
    {
        A = a;
        B = b;
    }

    public static IPAddress AddressA { get; } = IPAddress.Parse("10.231.0.1");

    public static IPAddress AddressB { get; } = IPAddress.Parse("10.231.0.2");

    public NetworkNamespace A { get; }

    public NetworkNamespace B { get; }

    public static async Task<LinkedNamespaces> CreateAsync(CancellationToken cancellationToken)
    {
        Requires.Root();
        Requires.Program("ip", "iproute2");
        NetworkNamespace a = await NetworkNamespace.CreateAsync("bt-lsd", cancellationToken);
        NetworkNamespace? b = null;
        try
        {
            b = await NetworkNamespace.CreateAsync("bt-lsd", cancellationToken);
            await NetworkNamespace.LinkAsync(a, "lsd0", $"{AddressA}/24", b, "lsd1", $"{AddressB}/24", cancellationToken);
            return new LinkedNamespaces(a, b);
        }
        catch
        {
            await a.DisposeAsync();
            if (b is not null)
            {
                await b.DisposeAsync();
            }

            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await A.DisposeAsync();
        }
        finally
        {
            await B.DisposeAsync();
        }
    }
}
