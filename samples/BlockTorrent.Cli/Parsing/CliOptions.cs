using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;

namespace BlockTorrent.Cli.Parsing;

/// <summary>
/// Options whose values are checked while parsing, so a bad value is a usage error (exit code 2) that names the
/// option and the value before anything runs.
/// </summary>
internal static class CliOptions
{
    /// <summary>A size option (<c>512MiB</c>, <c>4M</c>); <paramref name="check"/> returns why a parsed size is not acceptable.</summary>
    public static Option<long?> Size(string name, string description, Func<long, string?>? check = null) => new(name)
    {
        Description = description,
        HelpName = "SIZE",
        CustomParser = result => Parse(result, (string text, out long? value, out string? error) =>
        {
            bool ok = ByteSize.TryParse(text, out long bytes, out error);
            if (ok && check?.Invoke(bytes) is string problem)
            {
                error = problem;
                ok = false;
            }

            value = bytes;
            return ok;
        }),
    };

    public static Option<TimeSpan?> Duration(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "DURATION",
        CustomParser = result => Parse(result, (string text, out TimeSpan? value, out string? error) =>
        {
            bool ok = Parsing.Duration.TryParse(text, out TimeSpan duration, out error);
            value = duration;
            return ok;
        }),
    };

    public static Option<IPEndPoint?> EndPoint(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "ADDR:PORT",
        CustomParser = result => Parse(result, (string text, out IPEndPoint? value, out string? error) =>
        {
            bool ok = Parsing.EndPoints.TryParse(text, out IPEndPoint endPoint, out error);
            value = endPoint;
            return ok;
        }),
    };

    /// <summary>An info-hash option: 40 (v1) or 64 (v2) hexadecimal digits.</summary>
    public static Option<Manifest.InfoHash?> InfoHash(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "HEX",
        CustomParser = result => Parse(result, (string text, out Manifest.InfoHash? value, out string? error) =>
        {
            value = null;
            error = null;
            if (text.Length is 40 or 64 && text.All(char.IsAsciiHexDigit))
            {
                value = Manifest.InfoHash.FromHex(text);
                return true;
            }

            error = $"'{text}' is not an info-hash: 40 (v1) or 64 (v2) hexadecimal digits.";
            return false;
        }),
    };

    public static Option<IPEndPoint[]> EndPointList(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "ADDR:PORT",
        AllowMultipleArgumentsPerToken = false,
        Arity = ArgumentArity.OneOrMore,
        DefaultValueFactory = _ => [],
        CustomParser = result =>
        {
            var list = new List<IPEndPoint>();
            foreach (Token token in result.Tokens)
            {
                if (!Parsing.EndPoints.TryParse(token.Value, out IPEndPoint endPoint, out string? error))
                {
                    result.AddError($"{OptionName(result)}: {error}");
                    return [];
                }

                list.Add(endPoint);
            }

            return [.. list];
        },
    };

    public static Option<string[]> Urls(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "URL",
        Arity = ArgumentArity.OneOrMore,
        DefaultValueFactory = _ => [],
        CustomParser = result =>
        {
            var list = new List<string>();
            foreach (Token token in result.Tokens)
            {
                if (!Uri.TryCreate(token.Value, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https" or "udp"))
                {
                    result.AddError($"{OptionName(result)}: '{token.Value}' is not a tracker URL; use http://HOST:PORT/announce, https://… or udp://HOST:PORT.");
                    return [];
                }

                list.Add(token.Value);
            }

            return [.. list];
        },
    };

    private delegate bool TryParser<T>(string text, out T value, out string? error);

    private static T? Parse<T>(ArgumentResult result, TryParser<T> parser)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        if (parser(text, out T value, out string? error))
        {
            return value;
        }

        result.AddError($"{OptionName(result)}: {error}");
        return default;
    }

    private static string OptionName(ArgumentResult result) =>
        result.Parent is OptionResult option ? option.Option.Name : result.Argument.Name;
}
