using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace BlockTorrent.Testing;

/// <summary>
/// A Linux network namespace created for one test (<c>ip netns add</c>), with its loopback up, deleted by name on
/// dispose. Programs run in it through <c>ip netns exec</c>; .NET code creates its sockets in it through
/// <see cref="Enter{T}"/>. Needs root.
/// </summary>
public sealed class NetworkNamespace : IAsyncDisposable
{
    private const int CLONE_NEWNET = 0x40000000;

    private NetworkNamespace(string name) => Name = name;

    /// <summary>Gets the namespace's name.</summary>
    public string Name { get; }

    /// <summary>Creates a namespace named <paramref name="prefix"/> and a random suffix, and brings its loopback up.</summary>
    /// <param name="prefix">The start of the name, e.g. <c>bt-lsd</c>.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    /// <returns>The namespace.</returns>
    public static async Task<NetworkNamespace> CreateAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var ns = new NetworkNamespace($"{prefix}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");
        await RunIpAsync(["netns", "add", ns.Name], cancellationToken);
        try
        {
            // No duplicate address detection: addresses (link-local too) are usable at once, so tests need not wait.
            await ns.ExecAsync("sysctl", ["-q", "-w", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"], TimeSpan.FromSeconds(30), cancellationToken);
            await ns.IpAsync(cancellationToken, "link", "set", "lo", "up");
        }
        catch
        {
            await ns.DisposeAsync();
            throw;
        }

        return ns;
    }

    /// <summary>
    /// Connects two namespaces with a veth pair, gives each end an IPv4 address, brings both up and routes IPv4
    /// multicast (224.0.0.0/4) through the link.
    /// </summary>
    /// <param name="a">The first namespace.</param>
    /// <param name="interfaceA">The name of the end in <paramref name="a"/>.</param>
    /// <param name="cidrA">Its address, e.g. <c>10.231.7.1/24</c>.</param>
    /// <param name="b">The second namespace.</param>
    /// <param name="interfaceB">The name of the end in <paramref name="b"/>.</param>
    /// <param name="cidrB">Its address.</param>
    /// <param name="cancellationToken">Cancels the set-up.</param>
    /// <returns>A task that completes when the link is up and both ends have their IPv6 link-local address.</returns>
    public static async Task LinkAsync(NetworkNamespace a, string interfaceA, string cidrA, NetworkNamespace b, string interfaceB, string cidrB, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        await RunIpAsync(["link", "add", interfaceA, "netns", a.Name, "type", "veth", "peer", "name", interfaceB, "netns", b.Name], cancellationToken);
        foreach ((NetworkNamespace ns, string name, string cidr) in new[] { (a, interfaceA, cidrA), (b, interfaceB, cidrB) })
        {
            await ns.IpAsync(cancellationToken, "addr", "add", cidr, "dev", name);
            await ns.IpAsync(cancellationToken, "link", "set", name, "multicast", "on", "up");
            await ns.IpAsync(cancellationToken, "route", "add", "224.0.0.0/4", "dev", name);
        }

        // The kernel gives each end its IPv6 link-local address only once it sees carrier, which the link watcher
        // reports up to a second after both ends are up; IPv6 multicast needs that address, so wait for it.
        foreach ((NetworkNamespace ns, string name) in new[] { (a, interfaceA), (b, interfaceB) })
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!(await ns.IpAsync(cancellationToken, "-6", "addr", "show", "dev", name, "scope", "link")).StandardOutput.Contains("inet6 fe80:", StringComparison.Ordinal))
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"{name} in {ns.Name} got no IPv6 link-local address within 30 s.");
                }

                await Task.Delay(20, cancellationToken);
            }
        }
    }

    /// <summary>Runs <c>ip -n NAME …</c> and throws when it fails.</summary>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <param name="arguments">The arguments after <c>-n NAME</c>.</param>
    /// <returns>The result.</returns>
    public Task<ProgramResult> IpAsync(CancellationToken cancellationToken, params string[] arguments) =>
        RunIpAsync(["-n", Name, .. arguments], cancellationToken);

    /// <summary>Runs a program inside the namespace to completion.</summary>
    /// <param name="program">The program.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="timeout">The bound on its run time.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The result (not checked).</returns>
    public Task<ProgramResult> ExecAsync(string program, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        ExternalProgram.RunAsync(Ip, ["netns", "exec", Name, program, .. arguments], timeout, null, cancellationToken);

    /// <summary>Starts a program inside the namespace; the caller owns (and must kill) the process.</summary>
    /// <param name="program">The program.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="workingDirectory">The working directory, or <see langword="null"/>.</param>
    /// <returns>The process.</returns>
    public Process Start(string program, IEnumerable<string> arguments, string? workingDirectory = null) =>
        ExternalProgram.Start(Ip, ["netns", "exec", Name, program, .. arguments], workingDirectory);

    /// <summary>
    /// Runs <paramref name="action"/> on a new thread that has joined the namespace. Sockets created there stay in
    /// the namespace for their whole life, whichever thread uses them later; so does anything the action enumerates
    /// through netlink (interfaces, addresses). The calling thread is not affected.
    /// </summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="action">The code to run inside the namespace.</param>
    /// <returns>Its result.</returns>
    public T Enter<T>(Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/var/run/netns/{Name}");
                if (SetNs(handle.DangerousGetHandle().ToInt32(), CLONE_NEWNET) != 0)
                {
                    throw new InvalidOperationException($"setns into {Name} failed with errno {Marshal.GetLastPInvokeError()}.");
                }

                result = action();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            throw new InvalidOperationException($"Running inside network namespace {Name} failed: {failure.Message}", failure);
        }

        return result;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await RunIpAsync(["netns", "delete", Name], CancellationToken.None);

    private static string Ip => ExternalProgram.Find("ip") ?? throw new InvalidOperationException("'ip' is not installed (apt-get install iproute2).");

    private static async Task<ProgramResult> RunIpAsync(IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        string[] args = [.. arguments];
        ProgramResult result = await ExternalProgram.RunAsync(Ip, args, TimeSpan.FromSeconds(30), null, cancellationToken);
        return result.EnsureSuccess("ip " + string.Join(' ', args));
    }

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNs(int fd, int nstype);
}
