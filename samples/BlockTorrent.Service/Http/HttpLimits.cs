using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace BlockTorrent.Service.Http;

/// <summary>
/// Kestrel's limits for the service: every path is a small GET, so request heads are small, slow clients are cut
/// off soon, and one source address holds at most <see cref="MaxConnectionsPerAddress"/> connections at once (the
/// rest are closed as they arrive), so a host on the LAN cannot tie up the listener the targets fetch manifests from.
/// </summary>
internal static class HttpLimits
{
    /// <summary>The most connections one source address holds at once.</summary>
    public const int MaxConnectionsPerAddress = 32;

    /// <summary>Applies the limits; call before the listeners are added, so each of them gets the per-address limit.</summary>
    /// <param name="kestrel">Kestrel's options.</param>
    public static void Apply(KestrelServerOptions kestrel)
    {
        kestrel.AddServerHeader = false;
        KestrelServerLimits limits = kestrel.Limits;
        limits.MaxConcurrentConnections = 1024;
        limits.MaxRequestLineSize = 4 * 1024;
        limits.MaxRequestHeadersTotalSize = 8 * 1024;
        limits.MaxRequestHeaderCount = 32;
        limits.MaxRequestBodySize = 16 * 1024;
        limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
        limits.KeepAliveTimeout = TimeSpan.FromSeconds(30);
        limits.Http2.MaxStreamsPerConnection = 16;
        var perAddress = new ConcurrentDictionary<IPAddress, int>();
        kestrel.ConfigureEndpointDefaults(listener => listener.Use(next => connection => LimitPerAddressAsync(perAddress, next, connection)));
    }

    private static async Task LimitPerAddressAsync(ConcurrentDictionary<IPAddress, int> perAddress, ConnectionDelegate next, ConnectionContext connection)
    {
        if (connection.RemoteEndPoint is not IPEndPoint { Address: var remote })
        {
            await next(connection).ConfigureAwait(false);
            return;
        }

        IPAddress address = remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote;
        if (perAddress.AddOrUpdate(address, 1, (_, count) => count + 1) > MaxConnectionsPerAddress)
        {
            Release(perAddress, address);
            connection.Abort(new ConnectionAbortedException("too many connections from one address"));
            return;
        }

        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            Release(perAddress, address);
        }
    }

    private static void Release(ConcurrentDictionary<IPAddress, int> perAddress, IPAddress address)
    {
        // Decrement, and drop the entry at zero so the table holds only addresses with open connections.
        while (true)
        {
            int count = perAddress[address];
            if (count == 1 ? perAddress.TryRemove(KeyValuePair.Create(address, 1)) : perAddress.TryUpdate(address, count - 1, count))
            {
                return;
            }
        }
    }
}
