namespace BlockTorrent.Cli.Progress;

/// <summary>
/// Plain periodic lines for logs and pipes (no <c>\r</c>, no escape codes): one line per interval, one per event,
/// and a final line.
/// </summary>
internal sealed class PlainProgressView : IProgressView
{
    private readonly TextWriter _out;
    private readonly UpdateThrottle _throttle;
    private readonly string _label;

    public PlainProgressView(TextWriter output, string label, TimeSpan interval, TimeProvider? time = null)
    {
        _out = output;
        _label = label;
        _throttle = new UpdateThrottle(interval, time);
    }

    public void Update(TransferSnapshot snapshot)
    {
        if (!_throttle.TryPass())
        {
            return;
        }

        _out.WriteLine(Render(snapshot, _label));
    }

    public void Event(string kind, string text) => _out.WriteLine(text);

    public void Complete(TransferSnapshot snapshot, string summary)
    {
        _out.WriteLine(Render(snapshot, _label));
        _out.WriteLine(summary);
    }

    public static string Render(TransferSnapshot s, string label) =>
        string.Join(' ', [label, s.State, ProgressText.Percent(s), .. ProgressText.Fields(s)]);
}
