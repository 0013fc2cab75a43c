using System.Globalization;

namespace BlockTorrent.Testing;

/// <summary>A real loop device over a backing file, attached with losetup and always detached on dispose.</summary>
public sealed class LoopDevice : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private readonly List<string> _mounts = [];

    private LoopDevice(string path, string backingFile)
    {
        Path = path;
        BackingFile = backingFile;
    }

    /// <summary>Gets the device node, for example /dev/loop3.</summary>
    public string Path { get; }

    /// <summary>Gets the kernel name, for example loop3.</summary>
    public string Name => System.IO.Path.GetFileName(Path);

    /// <summary>Gets the backing file.</summary>
    public string BackingFile { get; private set; }

    /// <summary>Skips (outside CI) or fails (in CI) unless loop devices can be attached here.</summary>
    public static void Require()
    {
        Requires.Linux();
        Requires.Root();
        Requires.Program("losetup", "util-linux");
    }

    /// <summary>Creates a sparse backing file of <paramref name="length"/> bytes and attaches it.</summary>
    public static async Task<LoopDevice> CreateAsync(TempDirectory directory, long length, int? sectorSize = null, bool readOnly = false, bool partitionScan = false, string name = "loop.img")
    {
        string file = directory.File(name);
        await using (var stream = new FileStream(file, FileMode.Create, FileAccess.Write))
        {
            stream.SetLength(length);
        }

        return await AttachAsync(file, sectorSize, readOnly, partitionScan);
    }

    /// <summary>Attaches an existing file.</summary>
    public static async Task<LoopDevice> AttachAsync(string backingFile, int? sectorSize = null, bool readOnly = false, bool partitionScan = false)
    {
        Require();
        var arguments = new List<string> { "--find", "--show" };
        if (sectorSize is int size)
        {
            arguments.AddRange(["--sector-size", size.ToString(CultureInfo.InvariantCulture)]);
        }

        if (readOnly)
        {
            arguments.Add("--read-only");
        }

        if (partitionScan)
        {
            arguments.Add("--partscan");
        }

        arguments.Add(backingFile);
        var result = await ExternalProgram.RunAsync("losetup", arguments, CommandTimeout);
        result.EnsureSuccess("losetup " + string.Join(' ', arguments));
        return new LoopDevice(result.StandardOutput.Trim(), backingFile);
    }

    /// <summary>
    /// Detaches the device and attaches another file to the same node, as an operator re-pointing a loop device
    /// between two runs would: the same device name and length, other bytes.
    /// </summary>
    public async Task ReattachAsync(string backingFile)
    {
        await RunAsync("losetup", "-d", Path);
        await RunAsync("losetup", Path, backingFile);
        BackingFile = backingFile;
    }

    /// <summary>Runs a program against the device and fails with its output when it does not succeed.</summary>
    public static async Task RunAsync(string program, params string[] arguments)
    {
        var result = await ExternalProgram.RunAsync(program, arguments, CommandTimeout);
        result.EnsureSuccess(program + " " + string.Join(' ', arguments));
    }

    /// <summary>Makes an ext4 file system on the device and mounts it on a directory; unmounted on dispose.</summary>
    public async Task MountExt4Async(string mountPoint)
    {
        Requires.Program("mkfs.ext4", "e2fsprogs");
        await RunAsync("mkfs.ext4", "-q", "-F", Path);
        Directory.CreateDirectory(mountPoint);
        await RunAsync("mount", Path, mountPoint);
        _mounts.Add(mountPoint);
    }

    /// <summary>Reads the backing file, which the loop driver keeps in step with the device.</summary>
    public byte[] ReadBackingFile() => File.ReadAllBytes(BackingFile);

    public async ValueTask DisposeAsync()
    {
        foreach (string mountPoint in _mounts)
        {
            await ExternalProgram.RunAsync("umount", [mountPoint], CommandTimeout);
        }

        await ExternalProgram.RunAsync("losetup", ["-d", Path], CommandTimeout);
    }
}
