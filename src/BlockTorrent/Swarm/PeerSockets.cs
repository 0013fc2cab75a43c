using System.Net.Sockets;
using System.Text;

namespace BlockTorrent.Swarm;

/// <summary>Creates and tunes the TCP sockets peer connections use.</summary>
internal static class PeerSockets
{
    // Linux's IPPROTO_TCP and TCP_CONGESTION (include/uapi/linux/tcp.h); algorithm names are at most 15 characters.
    private const int IPProtoTcp = 6;
    private const int TcpCongestion = 13;
    private const string AvailablePath = "/proc/sys/net/ipv4/tcp_available_congestion_control";

    /// <summary>The longest algorithm name the kernel takes (TCP_CA_NAME_MAX less the terminating zero).</summary>
    public const int MaxNameLength = 15;

    /// <summary>Creates a socket for dialling a peer: no Nagle delay, and the configured congestion control.</summary>
    /// <param name="family">The address family.</param>
    /// <param name="congestionControl">The algorithm, or null for the system's.</param>
    /// <returns>The socket.</returns>
    public static Socket Create(AddressFamily family, string? congestionControl)
    {
        var socket = new Socket(family, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            SetCongestionControl(socket, congestionControl);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return socket;
    }

    /// <summary>Sets a socket's TCP congestion control algorithm (Linux); does nothing for null.</summary>
    /// <param name="socket">The socket.</param>
    /// <param name="congestionControl">The algorithm, or null for the system's.</param>
    /// <exception cref="InvalidOperationException">The kernel refused the algorithm; the message lists those it offers.</exception>
    public static void SetCongestionControl(Socket socket, string? congestionControl)
    {
        if (congestionControl is null)
        {
            return;
        }

        try
        {
            socket.SetRawSocketOption(IPProtoTcp, TcpCongestion, Encoding.ASCII.GetBytes(congestionControl));
        }
        catch (SocketException e)
        {
            throw new InvalidOperationException(
                $"The kernel refused TCP congestion control '{congestionControl}' (TcpCongestionControl) with {e.SocketErrorCode}; it offers: {Available()}. Load the module for it (modprobe tcp_{congestionControl}) or choose one of those.",
                e);
        }
    }

    /// <summary>Reads a socket's TCP congestion control algorithm (Linux).</summary>
    /// <param name="socket">The socket.</param>
    /// <returns>The algorithm's name.</returns>
    public static string GetCongestionControl(Socket socket)
    {
        Span<byte> name = stackalloc byte[MaxNameLength + 1];
        int length = socket.GetRawSocketOption(IPProtoTcp, TcpCongestion, name);
        int end = name[..length].IndexOf((byte)0);
        return Encoding.ASCII.GetString(name[..(end < 0 ? length : end)]);
    }

    private static string Available()
    {
        try
        {
            return File.ReadAllText(AvailablePath).Trim();
        }
        catch (IOException)
        {
            return "(unknown: " + AvailablePath + " unreadable)";
        }
        catch (UnauthorizedAccessException)
        {
            return "(unknown: " + AvailablePath + " unreadable)";
        }
    }
}
