using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Manifest;

/// <summary>Drives python3-libtorrent 2.0 (<c>/usr/bin/python3</c>) to make and to read .torrent files.</summary>
internal static class Libtorrent
{
    private const string CreateScript = """
        import os, sys, libtorrent as lt
        path, out, piece, mode = sys.argv[1:5]
        fs = lt.file_storage()
        lt.add_files(fs, path)
        flags = {'v1': lt.create_torrent.v1_only, 'v2': lt.create_torrent.v2_only, 'hybrid': 0}[mode]
        t = lt.create_torrent(fs, int(piece), flags=flags)
        lt.set_piece_hashes(t, os.path.dirname(path))
        with open(out, 'wb') as f:
            f.write(lt.bencode(t.generate()))
        """;

    private const string InfoScript = """
        import sys, libtorrent as lt
        ti = lt.torrent_info(sys.argv[1])
        h = ti.info_hashes()
        print('v1', h.v1 if h.has_v1() else '-')
        print('v2', h.v2 if h.has_v2() else '-')
        print('pieces', ti.num_pieces())
        print('piece_length', ti.piece_length())
        print('size', ti.total_size())
        print('name', ti.name())
        """;

    /// <summary>Makes a torrent of <paramref name="image"/> with libtorrent.</summary>
    public static async Task CreateAsync(string image, string torrent, int pieceLength, string mode)
    {
        (await ExternalProgram.RunAsync("/usr/bin/python3", ["-c", CreateScript, image, torrent, pieceLength.ToString(System.Globalization.CultureInfo.InvariantCulture), mode], TimeSpan.FromMinutes(2), cancellationToken: TestContext.Current.CancellationToken))
            .EnsureSuccess("libtorrent create_torrent");
    }

    /// <summary>Loads a torrent in libtorrent and returns what it reports, as key → value.</summary>
    public static async Task<Dictionary<string, string>> ReadAsync(string torrent)
    {
        var result = (await ExternalProgram.RunAsync("/usr/bin/python3", ["-c", InfoScript, torrent], TimeSpan.FromMinutes(1), cancellationToken: TestContext.Current.CancellationToken))
            .EnsureSuccess("libtorrent torrent_info");
        return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', 2))
            .ToDictionary(parts => parts[0], parts => parts.Length > 1 ? parts[1].Trim() : string.Empty);
    }
}
