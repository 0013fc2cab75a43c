using System.CommandLine;
using System.Runtime.Versioning;
using BlockTorrent.Cli.Console;
using BlockTorrent.Cli.Parsing;
using BlockTorrent.Devices.Linux;
using BlockTorrent.Devices.Windows;

namespace BlockTorrent.Cli.Commands;

/// <summary><c>blocktorrent devices [--json]</c>: the block devices, their size, model and mounts, and whether they are safe to image.</summary>
internal static class DevicesCommand
{
    public static Command Build(CliContext context)
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON array instead of a table." };
        var command = new Command("devices", "List block devices with size, model, mounts, and whether they are safe to image.") { json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            IReadOnlyList<DeviceRow> rows = await ListAsync(cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                PrintJson(context.Console.Out, rows);
            }
            else
            {
                PrintTable(context.Console.Out, rows);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    public static async Task<IReadOnlyList<DeviceRow>> ListAsync(CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsLinux())
        {
            return ListLinux();
        }

        if (OperatingSystem.IsWindows())
        {
            return await ListWindowsAsync(cancellationToken).ConfigureAwait(false);
        }

        throw CommandException.InvalidInput("listing devices is supported on Linux and Windows only.");
    }

    [SupportedOSPlatform("linux")]
    private static List<DeviceRow> ListLinux()
    {
        var rows = new List<DeviceRow>();
        foreach (LinuxBlockDeviceInfo device in LinuxBlockDevices.Enumerate())
        {
            if (device.Size == 0)
            {
                // A loop device with no file attached, an empty card reader: nothing to image, as lsblk hides them.
                continue;
            }

            IReadOnlyList<DeviceRefusal> refusals = LinuxDeviceSafety.Evaluate(device, imageLength: null);
            var mounts = device.MountPoints.Concat(device.Partitions.SelectMany(p => p.MountPoints)).Distinct().ToList();
            rows.Add(new DeviceRow(device.Path, device.Size, device.Model, mounts, refusals.Count == 0, [.. refusals.Select(r => r.Detail)], device.BackingFile));
        }

        return rows;
    }

    [SupportedOSPlatform("windows")]
    private static async Task<List<DeviceRow>> ListWindowsAsync(CancellationToken cancellationToken)
    {
        var rows = new List<DeviceRow>();
        foreach (WindowsDisk disk in await WindowsDisks.GetDisksAsync(cancellationToken).ConfigureAwait(false))
        {
            WindowsDiskPlan plan = await WindowsBlockDevice.PlanAsync(disk.Path, cancellationToken: cancellationToken).ConfigureAwait(false);
            var mounts = disk.Volumes.Select(v => v.ToString()).ToList();
            rows.Add(new DeviceRow(disk.Path, disk.Length, disk.Model, mounts, plan.IsAllowed, plan.Refusal is null ? [] : [plan.Refusal.Message], BackingFile: null));
        }

        return rows;
    }

    private static void PrintTable(TextWriter output, IReadOnlyList<DeviceRow> rows)
    {
        if (rows.Count == 0)
        {
            output.WriteLine("No block devices found.");
            return;
        }

        string[] header = ["DEVICE", "SIZE", "MODEL", "MOUNTS", "SAFE TO IMAGE"];
        var lines = rows.Select(r => new[]
        {
            r.Path,
            ByteSize.Format(r.Size),
            r.Model ?? (r.BackingFile is null ? "-" : $"loop: {r.BackingFile}"),
            r.MountPoints.Count == 0 ? "-" : string.Join(",", r.MountPoints),
            r.Safe ? "yes" : "no: " + string.Join("; ", r.Reasons),
        }).ToList();
        int[] widths = [.. Enumerable.Range(0, header.Length - 1).Select(c => Math.Min(40, lines.Select(l => l[c].Length).Append(header[c].Length).Max()))];
        void Write(string[] cells)
        {
            var parts = cells.Take(cells.Length - 1).Select((cell, c) => cell.PadRight(widths[c])).Append(cells[^1]);
            output.WriteLine(string.Join("  ", parts).TrimEnd());
        }

        Write(header);
        foreach (string[] line in lines)
        {
            Write(line);
        }
    }

    private static void PrintJson(TextWriter output, IReadOnlyList<DeviceRow> rows)
    {
        JsonText.WriteLine(output, w =>
        {
            w.WriteStartArray();
            foreach (DeviceRow row in rows)
            {
                w.WriteStartObject();
                w.WriteString("path", row.Path);
                w.WriteNumber("size", row.Size);
                w.WriteString("model", row.Model);
                w.WriteString("backingFile", row.BackingFile);
                w.WriteStartArray("mountPoints");
                row.MountPoints.ToList().ForEach(w.WriteStringValue);
                w.WriteEndArray();
                w.WriteBoolean("safeToImage", row.Safe);
                w.WriteStartArray("reasons");
                row.Reasons.ToList().ForEach(w.WriteStringValue);
                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
    }
}
