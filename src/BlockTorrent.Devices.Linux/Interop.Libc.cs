using System.Runtime.InteropServices;

namespace BlockTorrent;

internal static partial class Interop
{
    /// <summary>The calls and constants only the Linux device package needs (the shared ones are in src/Common).</summary>
    internal static partial class Libc
    {
        // <fcntl.h> (asm-generic values; O_DIRECT differs per architecture, see ODirect).
        internal const int O_RDONLY = 0x0;
        internal const int O_WRONLY = 0x1;
        internal const int O_RDWR = 0x2;
        internal const int O_CREAT = 0x40;
        internal const int O_EXCL = 0x80;
        internal const int O_CLOEXEC = 0x80000;

        // <sys/stat.h>
        internal const int S_IFMT = 0xF000;
        internal const int S_IFBLK = 0x6000;
        internal const int S_IFREG = 0x8000;

        // <linux/uio.h>
        internal const int IOV_MAX = 1024;

        // <linux/fs.h> block device ioctls. _IO(0x12, nr) and _IOR(0x12, nr, size_t) in the asm-generic encoding
        // used by x86, arm and riscv: dir << 30 | size << 16 | type << 8 | nr.
        internal static readonly nuint BLKROGET = IO(0x12, 94);
        internal static readonly nuint BLKRRPART = IO(0x12, 95);
        internal static readonly nuint BLKSSZGET = IO(0x12, 104);
        internal static readonly nuint BLKGETSIZE64 = IOR(0x12, 114, (uint)IntPtr.Size);
        internal static readonly nuint BLKDISCARD = IO(0x12, 119);
        internal static readonly nuint BLKPBSZGET = IO(0x12, 123);
        internal static readonly nuint BLKDISCARDZEROES = IO(0x12, 124);
        internal static readonly nuint BLKZEROOUT = IO(0x12, 127);

        /// <summary>Gets O_DIRECT, whose value is architecture specific (arm and arm64 swapped it with O_DIRECTORY).</summary>
        internal static int O_DIRECT => RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.Arm or Architecture.Arm64 or Architecture.Armv6 => 0x10000,
            Architecture.Ppc64le => 0x20000,
            _ => 0x4000,
        };

        private static nuint IO(uint type, uint nr) => Ioc(0, type, nr, 0);

        private static nuint IOR(uint type, uint nr, uint size) => Ioc(2, type, nr, size);

        private static nuint Ioc(uint dir, uint type, uint nr, uint size)
        {
            // PowerPC encodes direction in three bits at 29 (read = 2, none = 1) and the size in 13 bits.
            if (RuntimeInformation.ProcessArchitecture == Architecture.Ppc64le)
            {
                uint ppcDir = dir == 0 ? 1u : dir;
                return (nuint)((ppcDir << 29) | (size << 16) | (type << 8) | nr);
            }

            return (nuint)((dir << 30) | (size << 16) | (type << 8) | nr);
        }
    }
}
