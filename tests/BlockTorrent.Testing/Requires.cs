using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Xunit;

namespace BlockTorrent.Testing;

/// <summary>
/// Guards for tests that need something from the machine: root, loop devices, a peer program.
/// Outside CI a missing requirement skips the test with the reason; in CI (<c>CI=true</c>) it fails the test,
/// because CI installs everything and a skip there would hide a broken install.
/// </summary>
public static class Requires
{
    /// <summary>Gets a value indicating whether the tests run in CI.</summary>
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Skips (outside CI) or fails (in CI) unless <paramref name="condition"/> holds.</summary>
    /// <param name="condition">Whether the requirement is met.</param>
    /// <param name="reason">What is missing, phrased for a reader of the test report.</param>
    public static void That(bool condition, string reason)
    {
        if (condition)
        {
            return;
        }

        if (InCi)
        {
            Assert.Fail($"Required in CI: {reason}");
        }

        Assert.Skip(reason);
    }

    /// <summary>Requires the process to run as root.</summary>
    public static void Root() => That(Environment.UserName == "root" || GetEuid() == 0, "this test needs root (loop devices, namespaces).");

    /// <summary>Requires Linux.</summary>
    public static void Linux() => That(OperatingSystem.IsLinux(), "this test needs Linux.");

    /// <summary>Requires a program on the PATH (or at an absolute path).</summary>
    /// <param name="program">The program name or absolute path.</param>
    /// <param name="package">The Debian package that provides it, named in the reason.</param>
    /// <returns>The full path of the program.</returns>
    public static string Program(string program, string package)
    {
        string? path = ExternalProgram.Find(program);
        That(path is not null, $"'{program}' is not installed (apt-get install {package}).");
        return path!;
    }

    /// <summary>Requires an IPv4 address on this machine beyond loopback (an interface that is up).</summary>
    /// <returns>The first such address.</returns>
    public static IPAddress LanAddress()
    {
        IPAddress? lan = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        That(lan is not null, "this test needs an IPv4 address on this machine beyond loopback.");
        return lan!;
    }

    /// <summary>Requires the python3-libtorrent bindings for /usr/bin/python3.</summary>
    public static void PythonLibtorrent()
    {
        Program("/usr/bin/python3", "python3");
        var result = ExternalProgram.RunAsync("/usr/bin/python3", ["-c", "import libtorrent"], TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        That(result.ExitCode == 0, "python3-libtorrent is not installed (apt-get install python3-libtorrent).");
    }

    private static int GetEuid()
    {
        try
        {
            string status = File.ReadAllText("/proc/self/status");
            foreach (string line in status.Split('\n'))
            {
                if (line.StartsWith("Uid:", StringComparison.Ordinal))
                {
                    string[] parts = line.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
                    return int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
            // Not Linux, or /proc is not mounted: the user name decides.
        }

        return -1;
    }
}
