using System.Text;

namespace BlockTorrent.Cli.Progress;

/// <summary>
/// A live one-line bar on a terminal, redrawn in place with <c>\r</c> and ANSI erase-to-end-of-line, at most ten
/// times a second. Events print above it as ordinary lines.
/// </summary>
internal sealed class TerminalProgressView : IProgressView
{
    private static readonly TimeSpan MinRedraw = TimeSpan.FromMilliseconds(100);
    private readonly TextWriter _out;
    private readonly Func<int> _width;
    private readonly UpdateThrottle _throttle;
    private readonly string _label;
    private bool _drawn;

    public TerminalProgressView(TextWriter output, Func<int> width, string label, TimeProvider? time = null)
    {
        _out = output;
        _width = width;
        _label = label;
        _throttle = new UpdateThrottle(MinRedraw, time);
    }

    public void Update(TransferSnapshot snapshot)
    {
        if (_throttle.TryPass())
        {
            Draw(snapshot);
        }
    }

    public void Event(string kind, string text)
    {
        if (_drawn)
        {
            _out.Write("\r\x1b[K");
        }

        _out.WriteLine(text);
        _drawn = false;
    }

    public void Complete(TransferSnapshot snapshot, string summary)
    {
        Draw(snapshot);
        _out.WriteLine();
        _out.WriteLine(summary);
        _drawn = false;
    }

    /// <summary>Builds the bar line for a width: the label, the bar, then as many fields as fit.</summary>
    public static string Render(TransferSnapshot s, int width, string label)
    {
        string[] fields = ProgressText.Fields(s);
        string percent = ProgressText.Percent(s).PadLeft(6);
        int barWidth = Math.Clamp(width / 4, 10, 30);
        int filled = (int)Math.Round(s.Fraction * barWidth);
        var line = new StringBuilder(width);
        line.Append(label).Append(' ').Append(percent).Append(" [");
        line.Append('#', filled).Append('-', barWidth - filled).Append(']');
        foreach (string field in fields)
        {
            if (line.Length + 1 + field.Length > width - 1)
            {
                break;
            }

            line.Append(' ').Append(field);
        }

        return line.ToString();
    }

    private void Draw(TransferSnapshot snapshot)
    {
        _out.Write("\r" + Render(snapshot, _width(), _label) + "\x1b[K");
        _out.Flush();
        _drawn = true;
    }
}
