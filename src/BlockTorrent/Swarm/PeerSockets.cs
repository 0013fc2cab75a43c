using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace BlockTorrent.Swarm;

/// <summary>Creates and tunes the TCP sockets peer connections use.</summary>
internal static class PeerSockets
{
    // Linux's IPPROTO_TCP and the TCP socket options used here (include/uapi/linux/tcp.h).
    private const int IPProtoTcp = 6;
    private const int TcpCongestion = 13;
    private const int TcpNotSentLowWater = 25;
    private const int TcpInfo = 11;

    // struct tcp_info (include/uapi/linux/tcp.h): tcpi_rtt, the smoothed round trip in microseconds, is the u32 at
    // byte 68, in every kernel since 2.6 (the struct only grows at its end).
    private const int TcpInfoRttOffset = 68;
    private const string AvailablePath = "/proc/sys/net/ipv4/tcp_available_congestion_control";

    /// <summary>The longest algorithm name the kernel takes (TCP_CA_NAME_MAX less the terminating zero).</summary>
    public const int MaxNameLength = 15;

    /// <summary>The unsent-data limit of a new connection, before its upload rate is known.</summary>
    public const int InitialUnsentLimit = 128 * 1024;

    /// <summary>The lowest unsent-data limit.</summary>
    public const int MinUnsentLimit = 64 * 1024;

    /// <summary>The highest unsent-data limit.</summary>
    public const int MaxUnsentLimit = 4 * 1024 * 1024;

    /// <summary>
    /// The unsent-data limit for a connection uploading at a rate: about a tenth of a second of it (the next power of
    /// two), within <see cref="MinUnsentLimit"/> and <see cref="MaxUnsentLimit"/>. A message we write waits behind at
    /// most that much piece data in the kernel, while a fast connection still has enough queued never to run dry
    /// between our writes.
    /// </summary>
    /// <param name="bytesPerSecond">The connection's upload rate.</param>
    /// <returns>The limit in bytes.</returns>
    public static int UnsentLimitFor(double bytesPerSecond)
    {
        double tenth = Math.Clamp(bytesPerSecond / 10, MinUnsentLimit, MaxUnsentLimit);
        return (int)Math.Min(MaxUnsentLimit, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Ceiling(tenth)));
    }

    /// <summary>
    /// Creates a socket for dialling a peer: no Nagle delay, and the configured congestion control (accepted
    /// connections get the same: the listener's algorithm carries over, and it sets no Nagle delay itself).
    /// </summary>
    /// <param name="family">The address family.</param>
    /// <param name="congestionControl">The algorithm, or null for the system's.</param>
    /// <returns>The socket.</returns>
    /// <exception cref="InvalidOperationException">The kernel refused the algorithm; the message lists those it offers.</exception>
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

    /// <summary>
    /// Limits how much sent-but-unsent data the kernel holds for a socket (Linux's TCP_NOTSENT_LOWAT), so a message
    /// written now leaves after at most that much piece data; elsewhere, or if the kernel refuses, nothing changes.
    /// </summary>
    /// <param name="socket">The socket.</param>
    /// <param name="bytes">The most unsent bytes the kernel queues before the socket stops taking writes.</param>
    /// <returns><see langword="true"/> when the limit was set.</returns>
    public static bool TrySetUnsentLimit(Socket socket, int bytes)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            Span<byte> value = stackalloc byte[sizeof(int)];
            BitConverter.TryWriteBytes(value, bytes);
            socket.SetRawSocketOption(IPProtoTcp, TcpNotSentLowWater, value);
            return true;
        }
        catch (SocketException)
        {
            return false; // An older kernel: the queue is unlimited, as before; only latency suffers.
        }
        catch (ObjectDisposedException)
        {
            return false; // The connection closed meanwhile.
        }
    }

    /// <summary>
    /// Reads a connection's smoothed round-trip time as the kernel measures it (Linux's TCP_INFO), queueing along the
    /// path included; elsewhere, before the first measurement, or once the socket is closed, there is none.
    /// </summary>
    /// <param name="socket">The connected socket.</param>
    /// <param name="roundTrip">The round-trip time, when there is one.</param>
    /// <returns><see langword="true"/> when <paramref name="roundTrip"/> was read.</returns>
    public static bool TryGetRoundTrip(Socket socket, out TimeSpan roundTrip)
    {
        roundTrip = default;
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            Span<byte> info = stackalloc byte[128];
            int length = socket.GetRawSocketOption(IPProtoTcp, TcpInfo, info);
            if (length < TcpInfoRttOffset + sizeof(uint))
            {
                return false;
            }

            uint micros = MemoryMarshal.Read<uint>(info[TcpInfoRttOffset..]);
            roundTrip = TimeSpan.FromMicroseconds(micros);
            return micros > 0;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Reads a socket's unsent-data limit (Linux), or -1 where there is none to read.</summary>
    /// <param name="socket">The socket.</param>
    /// <returns>The limit in bytes.</returns>
    public static int GetUnsentLimit(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return -1;
        }

        Span<byte> value = stackalloc byte[sizeof(int)];
        return socket.GetRawSocketOption(IPProtoTcp, TcpNotSentLowWater, value) == sizeof(int) ? BitConverter.ToInt32(value) : -1;
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
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "(unknown: " + AvailablePath + " unreadable)";
        }
    }
}
