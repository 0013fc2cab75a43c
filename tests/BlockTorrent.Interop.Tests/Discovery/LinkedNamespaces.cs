using System.Net;
using System.Net.Sockets;
using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Discovery;

/// <summary>
/// Two network namespaces created for one test and joined by a veth pair: <c>lsd0</c> (10.231.0.1/24) in
/// <see cref="A"/> and <c>lsd1</c> (10.231.0.2/24) in <see cref="B"/>, multicast routed through the link. Multicast
/// never touches the host's interfaces. Both namespaces are deleted by name on dispose.
/// <see cref="CreateWithoutAddressOnBAsync"/> leaves <c>lsd1</c> up with no address at all, IPv6 included, as a
/// machine whose network has not configured its interface yet; <see cref="AddAddressOnBAsync"/> gives it one later.
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

    public static Task<LinkedNamespaces> CreateAsync(CancellationToken cancellationToken) =>
        CreatePairAsync("bt-lsd", (a, b) => NetworkNamespace.LinkAsync(a, "lsd0", $"{AddressA}/24", b, "lsd1", $"{AddressB}/24", cancellationToken), cancellationToken);

    /// <summary>
    /// Creates the pair with <c>lsd0</c> in <see cref="A"/> configured as <see cref="CreateAsync"/> does, and <c>lsd1</c>
    /// in <see cref="B"/> up, multicast on, but with no IPv4 address and IPv6 turned off (so not even a link-local address).
    /// </summary>
    public static Task<LinkedNamespaces> CreateWithoutAddressOnBAsync(CancellationToken cancellationToken) =>
        CreatePairAsync(
            "bt-lsd-late",
            async (a, b) =>
            {
                await a.IpAsync(cancellationToken, "link", "add", "lsd0", "type", "veth", "peer", "name", "lsd1", "netns", b.Name);
                await b.ExecAsync("sysctl", ["-q", "-w", "net.ipv6.conf.lsd1.disable_ipv6=1"], TimeSpan.FromSeconds(30), cancellationToken);
                await b.IpAsync(cancellationToken, "link", "set", "lsd1", "multicast", "on", "up");
                await a.IpAsync(cancellationToken, "addr", "add", $"{AddressA}/24", "dev", "lsd0");
                await a.IpAsync(cancellationToken, "link", "set", "lsd0", "multicast", "on", "up");
                await a.IpAsync(cancellationToken, "route", "add", "224.0.0.0/4", "dev", "lsd0");
                await WaitForLinkLocalAsync(a, "lsd0", cancellationToken);
            },
            cancellationToken);

    /// <summary>Gives <c>lsd1</c> in <see cref="B"/> its IPv4 address and multicast route, or turns IPv6 on and waits for its link-local address.</summary>
    public async Task AddAddressOnBAsync(AddressFamily family, CancellationToken cancellationToken)
    {
        if (family == AddressFamily.InterNetwork)
        {
            await B.IpAsync(cancellationToken, "addr", "add", $"{AddressB}/24", "dev", "lsd1");
            await B.IpAsync(cancellationToken, "route", "add", "224.0.0.0/4", "dev", "lsd1");
            return;
        }

        await B.ExecAsync("sysctl", ["-q", "-w", "net.ipv6.conf.lsd1.disable_ipv6=0"], TimeSpan.FromSeconds(30), cancellationToken);
        await WaitForLinkLocalAsync(B, "lsd1", cancellationToken);
    }

    /// <summary>Removes <c>lsd1</c>'s IPv4 address in <see cref="B"/>.</summary>
    public Task RemoveAddressOnBAsync(CancellationToken cancellationToken) =>
        B.IpAsync(cancellationToken, "addr", "del", $"{AddressB}/24", "dev", "lsd1");

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

    /// <summary>Creates two namespaces named <paramref name="prefix"/>-…, joins them with <paramref name="link"/>, and deletes both if anything fails.</summary>
    private static async Task<LinkedNamespaces> CreatePairAsync(string prefix, Func<NetworkNamespace, NetworkNamespace, Task> link, CancellationToken cancellationToken)
    {
        Requires.Root();
        Requires.Program("ip", "iproute2");
        NetworkNamespace a = await NetworkNamespace.CreateAsync(prefix, cancellationToken);
        NetworkNamespace? b = null;
        try
        {
            b = await NetworkNamespace.CreateAsync(prefix, cancellationToken);
            await link(a, b);
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

    private static Task WaitForLinkLocalAsync(NetworkNamespace ns, string name, CancellationToken cancellationToken) =>
        Eventually.TrueAsync(
            () => ns.IpAsync(cancellationToken, "-6", "addr", "show", "dev", name, "scope", "link").GetAwaiter().GetResult().StandardOutput.Contains("inet6 fe80:", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30),
            $"{name} in {ns.Name} to get its IPv6 link-local address",
            cancellationToken);
}
