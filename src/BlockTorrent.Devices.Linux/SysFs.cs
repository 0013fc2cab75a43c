using System.Globalization;
using System.Text;

namespace BlockTorrent.Devices.Linux;

/// <summary>
/// Reads sysfs attributes. They report a size of 4096 whatever they hold, so the File.ReadAll* helpers that trust
/// the size fail on them; these read until end of file. A missing or unreadable attribute reads as absent.
/// </summary>
internal static class SysFs
{
    public static byte[]? ReadBytes(string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
            using var content = new MemoryStream();
            var buffer = new byte[4096];
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                content.Write(buffer, 0, read);
            }

            return content.ToArray();
        }
        catch (IOException)
        {
            // Some attributes fail to read on some devices (EIO on a SCSI vpd page); they are simply absent.
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static string? ReadText(string path)
    {
        byte[]? bytes = ReadBytes(path);
        if (bytes is null)
        {
            return null;
        }

        string text = Encoding.UTF8.GetString(bytes).Trim('\0', ' ', '\n', '\t');
        return text.Length == 0 ? null : text;
    }

    public static long ReadLong(string path) =>
        long.TryParse(ReadText(path), NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) ? value : 0;
}
