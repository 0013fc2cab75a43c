using System.Globalization;
using System.Runtime.InteropServices;
using BlockTorrent.Buffers;
using Microsoft.Win32.SafeHandles;

namespace BlockTorrent.Devices;

/// <summary>
/// An <see cref="IBlockDevice"/> over a regular file: an image file to write, or a source image to seed or hash.
/// Positional I/O (pread/pwrite, pwritev for gathered writes) on one handle; calls for disjoint ranges run concurrently.
/// </summary>
/// <remarks>
/// <para>
/// Zero ranges do not have to be written as data: on Linux <see cref="ZeroRangeAsync"/> punches a hole
/// (<c>FALLOC_FL_PUNCH_HOLE</c>, the default, see <see cref="FileBlockDeviceOptions.Sparse"/>) or zeroes the range in
/// place (<c>FALLOC_FL_ZERO_RANGE</c>); where the platform or file system supports neither, it writes zeros.
/// <see cref="DiscardAsync"/> always leaves the range reading as zeros, so <see cref="DiscardZeroesData"/> is true.
/// </para>
/// <para>
/// A file made by <see cref="Create"/> reads as zeros until something is written to it, and says so through
/// <see cref="IsKnownZeroed"/>: a writer can then skip all-zero pieces entirely.
/// </para>
/// </remarks>
public sealed class FileBlockDevice : IBlockDevice
{
    private readonly SafeFileHandle _handle;
    private readonly bool _sparse;

    // 0: untried, 1: fallocate works for the chosen mode, -1: unsupported here (write zeros instead).
    private int _fallocateState;
    private int _knownZeroed;

    private FileBlockDevice(SafeFileHandle handle, string path, long length, bool readOnly, bool knownZeroed, FileBlockDeviceOptions options)
    {
        _handle = handle;
        Name = path;
        Length = length;
        IsReadOnly = readOnly;
        _knownZeroed = knownZeroed ? 1 : 0;
        _sparse = options.Sparse;
        LogicalSectorSize = options.SectorSize;
        PhysicalSectorSize = Math.Max(options.SectorSize, 4096);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public long Length { get; }

    /// <inheritdoc />
    /// <value>The sector size from <see cref="FileBlockDeviceOptions.SectorSize"/> (512 by default); a file accepts any offset.</value>
    public int LogicalSectorSize { get; }

    /// <inheritdoc />
    /// <value>4096, or the configured sector size when larger: the page size the file system caches in.</value>
    public int PhysicalSectorSize { get; }

    /// <inheritdoc />
    /// <value>1: buffered file I/O copies through the page cache, so no buffer alignment is needed.</value>
    public int MemoryAlignment => 1;

    /// <inheritdoc />
    public bool IsReadOnly { get; }

    /// <inheritdoc />
    /// <value><see langword="true"/> unless the file is read-only.</value>
    public bool CanDiscard => !IsReadOnly;

    /// <inheritdoc />
    /// <value><see langword="true"/> unless the file is read-only.</value>
    public bool CanZeroRange => !IsReadOnly;

    /// <inheritdoc />
    /// <value>Always <see langword="true"/>: a discarded range of a file reads back as zeros.</value>
    public bool DiscardZeroesData => true;

    /// <summary>
    /// Gets a value indicating whether every byte of the file is known to read as zero: the file was created by
    /// <see cref="Create"/> and nothing has been written to it through this instance since.
    /// </summary>
    public bool IsKnownZeroed => Volatile.Read(ref _knownZeroed) == 1;

    /// <summary>Opens an existing file; its current length is the device length.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">How to open it; <see langword="null"/> for <see cref="FileBlockDeviceOptions.Default"/>.</param>
    /// <returns>The device.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file cannot be opened; the message names it.</exception>
    public static FileBlockDevice Open(string path, FileBlockDeviceOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= FileBlockDeviceOptions.Default;
        options.Validate();
        string fullPath = Path.GetFullPath(path);
        FileAccess access = options.ReadOnly ? FileAccess.Read : FileAccess.ReadWrite;
        FileShare share = options.ReadOnly ? FileShare.ReadWrite : FileShare.Read;
        SafeFileHandle handle = File.OpenHandle(fullPath, FileMode.Open, access, share, FileOptions.Asynchronous);
        try
        {
            long length = RandomAccess.GetLength(handle);
            return new FileBlockDevice(handle, fullPath, length, options.ReadOnly, knownZeroed: false, options);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Creates a file of <paramref name="length"/> bytes that reads as zeros (sparse where the file system allows),
    /// and opens it for reading and writing. <see cref="IsKnownZeroed"/> is <see langword="true"/> afterwards.
    /// </summary>
    /// <param name="path">The file to create.</param>
    /// <param name="length">The device length in bytes.</param>
    /// <param name="options">How to create it; <see cref="FileBlockDeviceOptions.Overwrite"/> allows replacing a file.</param>
    /// <returns>The device.</returns>
    /// <exception cref="IOException">The file exists (and <see cref="FileBlockDeviceOptions.Overwrite"/> is not set), or cannot be created; the message names it.</exception>
    public static FileBlockDevice Create(string path, long length, FileBlockDeviceOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        options ??= FileBlockDeviceOptions.Default;
        options.Validate();
        string fullPath = Path.GetFullPath(path);
        FileMode mode = options.Overwrite ? FileMode.Create : FileMode.CreateNew;
        SafeFileHandle handle = File.OpenHandle(fullPath, mode, FileAccess.ReadWrite, FileShare.Read, FileOptions.Asynchronous);
        try
        {
            // Truncating to 0 first guarantees the whole length is a hole, even when an existing file was replaced.
            RandomAccess.SetLength(handle, 0);
            RandomAccess.SetLength(handle, length);
            return new FileBlockDevice(handle, fullPath, length, readOnly: false, knownZeroed: true, options);
        }
        catch (IOException ex)
        {
            handle.Dispose();
            throw new IOException($"Could not make '{fullPath}' {length.ToString(CultureInfo.InvariantCulture)} bytes long: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    public async ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int length = DeviceRange.ClampRead(Name, Length, offset, buffer.Length);
        int total = 0;
        try
        {
            while (total < length)
            {
                int read = await RandomAccess.ReadAsync(_handle, buffer[total..length], offset + total, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    // The file shrank under us: what is missing is not ours to invent.
                    throw new EndOfStreamException($"'{Name}' ended at offset {offset + total} while {Length} bytes were expected; was the file truncated?");
                }

                total += read;
            }
        }
        catch (IOException ex) when (ex is not EndOfStreamException)
        {
            throw Failed("read", offset + total, ex);
        }

        return total;
    }

    /// <inheritdoc />
    public async ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ThrowIfReadOnly();
        DeviceRange.Check(Name, Length, offset, data.Length);
        Volatile.Write(ref _knownZeroed, 0);
        try
        {
            await RandomAccess.WriteAsync(_handle, data, offset, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw Failed("write", offset, ex);
        }
    }

    /// <inheritdoc />
    public async ValueTask WriteGatherAsync(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default)
    {
        ThrowIfReadOnly();
        DeviceRange.CheckGather(Name, Length, offset, buffers);
        Volatile.Write(ref _knownZeroed, 0);
        try
        {
            await RandomAccess.WriteAsync(_handle, buffers, offset, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw Failed("write", offset, ex);
        }
    }

    /// <inheritdoc />
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        if (IsReadOnly)
        {
            return;
        }

        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            await Task.Run(() => RandomAccess.FlushToDisk(_handle), cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw Failed("flush", null, ex);
        }
    }

    /// <inheritdoc />
    /// <remarks>On a file a discard and a zero range are the same thing: the range reads back as zeros.</remarks>
    public ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken = default) =>
        ZeroRangeAsync(offset, length, cancellationToken);

    /// <inheritdoc />
    public ValueTask ZeroRangeAsync(long offset, long length, CancellationToken cancellationToken = default)
    {
        ThrowIfReadOnly();
        DeviceRange.Check(Name, Length, offset, length);
        cancellationToken.ThrowIfCancellationRequested();
        if (length == 0)
        {
            return ValueTask.CompletedTask;
        }

        Volatile.Write(ref _knownZeroed, 0);
        if (OperatingSystem.IsLinux() && Environment.Is64BitProcess && Volatile.Read(ref _fallocateState) >= 0)
        {
            int mode = _sparse ? Interop.Libc.FALLOC_FL_PUNCH_HOLE | Interop.Libc.FALLOC_FL_KEEP_SIZE : Interop.Libc.FALLOC_FL_ZERO_RANGE | Interop.Libc.FALLOC_FL_KEEP_SIZE;
            int result;
            do
            {
                result = Interop.Libc.FAllocate(_handle, mode, offset, length);
            }
            while (result != 0 && Marshal.GetLastPInvokeError() == Interop.Libc.EINTR);

            if (result == 0)
            {
                Volatile.Write(ref _fallocateState, 1);
                return ValueTask.CompletedTask;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno is not (Interop.Libc.EOPNOTSUPP or Interop.Libc.ENOSYS or Interop.Libc.EINVAL))
            {
                throw new BlockDeviceIOException(
                    Name,
                    _sparse ? "fallocate(FALLOC_FL_PUNCH_HOLE)" : "fallocate(FALLOC_FL_ZERO_RANGE)",
                    offset,
                    errno,
                    Interop.Libc.Classify(errno),
                    Marshal.GetPInvokeErrorMessage(errno));
            }

            // The file system cannot do it (tmpfs without holes, some network file systems): write zeros from now on.
            Volatile.Write(ref _fallocateState, -1);
        }

        return ZeroBuffer.WriteAsync(WriteGatherAsync, offset, length, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _handle.Dispose();
        return ValueTask.CompletedTask;
    }

    private void ThrowIfReadOnly()
    {
        if (IsReadOnly)
        {
            throw new NotSupportedException($"'{Name}' was opened read-only.");
        }
    }

    private BlockDeviceIOException Failed(string operation, long? offset, IOException inner) =>
        new(Name, operation, offset, inner.HResult, Interop.Libc.Classify(inner.HResult), inner.Message, inner);
}
