using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace BlockTorrent.Benchmarks.Machine;

/// <summary>
/// One measured figure of the machine benchmark, next to the limit it is held against (null for the limits themselves).
/// Every figure is a rate, higher is better, so <c>value / limit</c> is the share of the limit reached.
/// </summary>
internal sealed record MachineFigure(string Name, string What, double Value, string Unit, string? LimitName = null, double? Limit = null)
{
    public double? Share => Limit is > 0 ? Value / Limit : null;
}

/// <summary>The machine benchmark's results: the figures as a table for people and as JSON for tools.</summary>
internal sealed class MachineReport
{
    private readonly List<MachineFigure> _figures = [];
    private readonly List<(string Name, string Reason)> _skipped = [];
    private readonly Dictionary<string, string> _machine = [];

    public IReadOnlyList<MachineFigure> Figures => _figures;

    public void Describe(string key, string value) => _machine[key] = value;

    public MachineFigure Add(MachineFigure figure)
    {
        _figures.Add(figure);
        Console.WriteLine(FormattableString.Invariant($"  {figure.Name}: {figure.Value:F1} {figure.Unit}{(figure.Limit is { } limit ? $" (limit {figure.LimitName} {limit:F1})" : "")}"));
        return figure;
    }

    public double Value(string name) => _figures.First(f => f.Name == name).Value;

    /// <summary>Records a part that did not run and why, so the table and the JSON say so instead of leaving it out silently.</summary>
    public void Skip(string name, string reason)
    {
        _skipped.Add((name, reason));
        Console.WriteLine($"  {name}: not run ({reason})");
    }

    public void PrintTable(TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"{"figure",-22} {"value",12}  {"limit",-60} {"share",6}");
        foreach (MachineFigure f in _figures)
        {
            string value = string.Create(CultureInfo.InvariantCulture, $"{f.Value:F1} {f.Unit}");
            string limit = f.Limit is { } l ? string.Create(CultureInfo.InvariantCulture, $"{f.LimitName} = {l:F1}") : "";
            string share = f.Share is { } s ? s.ToString("P0", CultureInfo.InvariantCulture) : "";
            output.WriteLine($"{f.Name,-22} {value,12}  {limit,-60} {share,6}");
        }

        foreach ((string name, string reason) in _skipped)
        {
            output.WriteLine($"{name,-22} {"not run",12}  {reason}");
        }
    }

    public void WriteJson(Stream stream)
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        json.WriteStartObject();
        json.WriteString("command", "machine");
        json.WriteStartObject("machine");
        foreach ((string key, string value) in _machine)
        {
            json.WriteString(key, value);
        }

        json.WriteEndObject();
        json.WriteStartArray("figures");
        foreach (MachineFigure f in _figures)
        {
            json.WriteStartObject();
            json.WriteString("name", f.Name);
            json.WriteString("what", f.What);
            json.WriteNumber("value", f.Value);
            json.WriteString("unit", f.Unit);
            if (f.Limit is { } limit)
            {
                json.WriteString("limit_name", f.LimitName);
                json.WriteNumber("limit", limit);
                json.WriteNumber("share", f.Share!.Value);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("not_run");
        foreach ((string name, string reason) in _skipped)
        {
            json.WriteStartObject();
            json.WriteString("name", name);
            json.WriteString("reason", reason);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
