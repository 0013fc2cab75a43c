using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace BlockTorrent.Service.Http;

/// <summary>
/// An ADDR:PORT from the settings where some of the service's HTTP paths are answered, and the listener that
/// receives its connections: its own, or a wider one on the same port that it shares (see <see cref="HttpEndPoints"/>).
/// </summary>
/// <param name="setting">The configuration key that names it, for the log.</param>
/// <param name="configured">The address and port as the setting names them.</param>
internal sealed class ServedEndPoint(string setting, IPEndPoint configured)
{
    /// <summary>Gets the configuration key that names this end point.</summary>
    public string Setting { get; } = setting;

    /// <summary>Gets the address and port as the setting names them (port 0: any free port).</summary>
    public IPEndPoint Configured { get; } = configured;

    /// <summary>Gets the listener that receives this end point's connections, once Kestrel is configured.</summary>
    public ListenOptions? Listener { get; set; }

    /// <summary>Gets or sets a value indicating whether this end point's paths must be served over HTTPS (a depot's manifests, by default).</summary>
    public bool WantsHttps { get; set; }

    /// <summary>Gets or sets a value indicating whether the listener serves HTTPS: this end point wants it, or shares its listener with one that does.</summary>
    public bool Https { get; set; }

    /// <summary>Gets the address and port as bound: the listener's port once the service has started (a configured 0 is then a real port).</summary>
    public IPEndPoint Bound => new(Configured.Address, Listener?.IPEndPoint?.Port ?? Configured.Port);

    /// <summary>Gets the base URL, for example https://127.0.0.1:8580.</summary>
    public string Url => (Https ? "https://" : "http://") + Bound;

    /// <summary>
    /// Gets a value indicating whether <paramref name="connection"/> reached this end point: it came through this
    /// end point's listener, on an address the setting names. A connection from another machine never arrives on a
    /// loopback address, so a loopback end point that shares a listener on every address stays this machine's.
    /// </summary>
    /// <param name="connection">The request's connection.</param>
    /// <returns><see langword="true"/> when the request may be answered here.</returns>
    public bool Accepts(ConnectionInfo connection)
    {
        if (Listener?.IPEndPoint is not { } listening || connection.LocalIpAddress is not { } local || connection.LocalPort != listening.Port)
        {
            return false;
        }

        if (local.IsIPv4MappedToIPv6)
        {
            local = local.MapToIPv4();
        }

        IPAddress wanted = Configured.Address;
        return wanted.Equals(IPAddress.IPv6Any)
            || (wanted.Equals(IPAddress.Any) ? local.AddressFamily == AddressFamily.InterNetwork : wanted.Equals(local));
    }

    /// <summary>
    /// Gets a value indicating whether a listener on this end point receives every connection <paramref name="other"/>
    /// would: the same fixed port, and the same address or a wider one (0.0.0.0 holds every IPv4 address; [::] listens
    /// dual-mode and holds every address).
    /// </summary>
    /// <param name="other">The other end point.</param>
    /// <returns><see langword="true"/> when one listener here serves both.</returns>
    public bool Covers(ServedEndPoint other) =>
        Configured.Port == other.Configured.Port && Configured.Port != 0
        && (Configured.Address.Equals(other.Configured.Address)
            || Configured.Address.Equals(IPAddress.IPv6Any)
            || (Configured.Address.Equals(IPAddress.Any) && other.Configured.AddressFamily == AddressFamily.InterNetwork));
}
