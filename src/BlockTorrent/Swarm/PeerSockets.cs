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

    // More of struct tcp_info: the congestion state (u8 at 1: 0 open, 1 disorder, 2 CWR, 3 recovery, 4 loss), packets
    // unacknowledged, selectively acknowledged, lost and retransmitted (u32s at 24,
    // 28, 32 and 36), the congestion window in packets (u32 at 80), the bytes not yet sent (u32 at 144, since 4.6) and
    // the microseconds the receiver's window held the connection back (u64 at 176, since 4.10).
    private const int TcpInfoCongestionStateOffset = 1;
    private const int TcpInfoUnackedOffset = 24;
    private const int TcpInfoCongestionWindowOffset = 80;
    private const int TcpInfoNotSentOffset = 144;
    private const int TcpInfoReceiveWindowLimitedOffset = 176;

    // Linux's SOL_SOCKET and SO_MAX_PACING_RATE (include/uapi/asm-generic/socket.h); all ones means no limit.
    private const int SolSocket = 1;
    private const int SoMaxPacingRate = 47;
    private const int SoReceiveLowWater = 18;
    private const string AvailablePath = "/proc/sys/net/ipv4/tcp_available_congestion_control";

    // The kernel's TCP_CA_NAME_MAX: the longest algorithm name and its terminating zero.
    private const int TcpCaNameMax = 16;

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
        // On an older kernel without it the queue stays unlimited, as before; only latency suffers.
        return TrySetInt32Option(socket, IPProtoTcp, TcpNotSentLowWater, bytes);
    }

    /// <summary>
    /// Sets how many bytes the kernel waits for before it reports a socket readable (SO_RCVLOWAT; Linux's TCP also
    /// wakes a reader earlier when its receive buffer runs short, so the wait can never stall a connection). A read
    /// that finds fewer bytes still returns them. Elsewhere, or once the socket is closed, nothing is set.
    /// </summary>
    /// <param name="socket">The socket.</param>
    /// <param name="bytes">The bytes to wait for, at least 1.</param>
    /// <returns><see langword="true"/> when it was set.</returns>
    public static bool TrySetReceiveLowWater(Socket socket, int bytes) => TrySetInt32Option(socket, SolSocket, SoReceiveLowWater, bytes);

    /// <summary>Reads a socket's receive low-water mark (SO_RCVLOWAT), or -1 where there is none to read.</summary>
    /// <param name="socket">The socket.</param>
    /// <returns>The bytes the kernel waits for before it reports the socket readable.</returns>
    public static int GetReceiveLowWater(Socket socket) => GetInt32Option(socket, SolSocket, SoReceiveLowWater);

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
        Span<byte> info = stackalloc byte[128];
        if (ReadTcpInfo(socket, info) < TcpInfoRttOffset + sizeof(uint))
        {
            return false;
        }

        uint micros = MemoryMarshal.Read<uint>(info[TcpInfoRttOffset..]);
        roundTrip = TimeSpan.FromMicroseconds(micros);
        return micros > 0;
    }

    /// <summary>
    /// Reads how a connection's sending stands (Linux's TCP_INFO): packets in flight, its congestion window, the bytes
    /// waiting unsent, and how long the receiver's window has held it back in all. Elsewhere, or once the socket is
    /// closed, there is nothing to read.
    /// </summary>
    /// <param name="socket">The connected socket.</param>
    /// <param name="state">The state, when it was read.</param>
    /// <returns><see langword="true"/> when <paramref name="state"/> was read.</returns>
    public static bool TryGetSendState(Socket socket, out SendState state)
    {
        state = default;
        Span<byte> info = stackalloc byte[256];
        if (ReadTcpInfo(socket, info) < TcpInfoReceiveWindowLimitedOffset + sizeof(ulong))
        {
            return false;
        }

        uint unacked = MemoryMarshal.Read<uint>(info[TcpInfoUnackedOffset..]);
        uint sacked = MemoryMarshal.Read<uint>(info[(TcpInfoUnackedOffset + 4)..]);
        uint lost = MemoryMarshal.Read<uint>(info[(TcpInfoUnackedOffset + 8)..]);
        uint retransmitted = MemoryMarshal.Read<uint>(info[(TcpInfoUnackedOffset + 12)..]);
        long inFlight = Math.Max(0L, (long)unacked - sacked - lost + retransmitted);
        state = new SendState(
            (int)Math.Min(int.MaxValue, inFlight),
            (int)Math.Min(int.MaxValue, MemoryMarshal.Read<uint>(info[TcpInfoCongestionWindowOffset..])),
            (int)Math.Min(int.MaxValue, MemoryMarshal.Read<uint>(info[TcpInfoNotSentOffset..])),
            TimeSpan.FromMicroseconds(MemoryMarshal.Read<ulong>(info[TcpInfoReceiveWindowLimitedOffset..])),
            Recovering: info[TcpInfoCongestionStateOffset] >= 2);
        return true;
    }

    /// <summary>
    /// Caps how fast the kernel sends on a connection (Linux's SO_MAX_PACING_RATE, which also has TCP pace its
    /// packets); <see cref="ulong.MaxValue"/> lifts the cap. Elsewhere, or once the socket is closed, nothing is set.
    /// </summary>
    /// <param name="socket">The socket.</param>
    /// <param name="bytesPerSecond">The cap.</param>
    /// <returns><see langword="true"/> when the cap was set.</returns>
    public static bool TrySetMaxPacingRate(Socket socket, ulong bytesPerSecond)
    {
        Span<byte> value = stackalloc byte[sizeof(ulong)];
        BitConverter.TryWriteBytes(value, bytesPerSecond);
        return TrySetOption(socket, SolSocket, SoMaxPacingRate, value);
    }

    /// <summary>Reads a socket's pacing cap (Linux): <see cref="ulong.MaxValue"/> when there is none.</summary>
    /// <param name="socket">The socket.</param>
    /// <returns>The cap in bytes per second.</returns>
    public static ulong GetMaxPacingRate(Socket socket)
    {
        Span<byte> value = stackalloc byte[sizeof(ulong)];
        return socket.GetRawSocketOption(SolSocket, SoMaxPacingRate, value) == sizeof(ulong) ? BitConverter.ToUInt64(value) : BitConverter.ToUInt32(value);
    }

    /// <summary>Reads a socket's unsent-data limit (Linux), or -1 where there is none to read.</summary>
    /// <param name="socket">The socket.</param>
    /// <returns>The limit in bytes.</returns>
    public static int GetUnsentLimit(Socket socket) => GetInt32Option(socket, IPProtoTcp, TcpNotSentLowWater);

    /// <summary>Reads a socket's TCP congestion control algorithm (Linux).</summary>
    /// <param name="socket">The socket.</param>
    /// <returns>The algorithm's name.</returns>
    public static string GetCongestionControl(Socket socket)
    {
        Span<byte> name = stackalloc byte[TcpCaNameMax];
        int length = socket.GetRawSocketOption(IPProtoTcp, TcpCongestion, name);
        int end = name[..length].IndexOf((byte)0);
        return Encoding.ASCII.GetString(name[..(end < 0 ? length : end)]);
    }

    /// <summary>Reads TCP_INFO into <paramref name="info"/> (Linux); the bytes read, or 0 elsewhere or once closed.</summary>
    private static int ReadTcpInfo(Socket socket, Span<byte> info)
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        try
        {
            return socket.GetRawSocketOption(IPProtoTcp, TcpInfo, info);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return 0;
        }
    }

    /// <summary>Sets a socket option (Linux); false elsewhere, when the kernel refuses it, or once the socket is closed.</summary>
    private static bool TrySetInt32Option(Socket socket, int level, int name, int value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(int)];
        BitConverter.TryWriteBytes(bytes, value);
        return TrySetOption(socket, level, name, bytes);
    }

    /// <summary>Reads an int socket option (Linux), or -1 where there is none to read.</summary>
    private static int GetInt32Option(Socket socket, int level, int name)
    {
        if (!OperatingSystem.IsLinux())
        {
            return -1;
        }

        Span<byte> value = stackalloc byte[sizeof(int)];
        return socket.GetRawSocketOption(level, name, value) == sizeof(int) ? BitConverter.ToInt32(value) : -1;
    }

    private static bool TrySetOption(Socket socket, int level, int name, ReadOnlySpan<byte> value)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            socket.SetRawSocketOption(level, name, value);
            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
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

/// <summary>How a connection's sending stands, as <see cref="PeerSockets.TryGetSendState"/> reads it.</summary>
/// <param name="InFlight">Packets sent and not yet acknowledged or known lost.</param>
/// <param name="CongestionWindow">The congestion window, in packets.</param>
/// <param name="Unsent">Bytes written and not yet sent.</param>
/// <param name="ReceiveWindowLimited">How long the receiver's window has held the connection back since it opened.</param>
/// <param name="Recovering">Whether it is cutting its window after a loss or a congestion signal (CWR, recovery, loss).</param>
internal readonly record struct SendState(int InFlight, int CongestionWindow, int Unsent, TimeSpan ReceiveWindowLimited, bool Recovering)
{
    /// <summary>
    /// Gets a value indicating whether our side holds the connection back: it has data waiting and its congestion
    /// window has room (under four fifths in flight) without being in the middle of a cut, so what paces it is here
    /// (our queue, the kernel's small-queue limit, a pacing cap), not the path.
    /// </summary>
    public bool HeldHere => Unsent > 0 && !Recovering && (long)InFlight * 5 < (long)CongestionWindow * 4;
}
