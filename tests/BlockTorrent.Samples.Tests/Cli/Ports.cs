using System.Net;
using System.Net.Sockets;

namespace BlockTorrent.Samples.Tests.Cli;

/// <summary>Free loopback ports for commands that take <c>--listen</c>.</summary>
internal static class Ports
{
    public static int Free()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
