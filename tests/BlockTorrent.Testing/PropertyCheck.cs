using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;
using Xunit;
using Xunit.Sdk;

namespace BlockTorrent.Testing;

/// <summary>
/// Runs every FsCheck property of the tests from a seed that is known before the run and printed in the test output,
/// so a red run can always be replayed and CI is not a lottery.
/// </summary>
/// <remarks>
/// <para>
/// The seed is <see cref="SeedVariable"/> when it is set: <c>seed,gamma</c> as printed for a run, or FsCheck's
/// <c>seed,gamma,size</c> of a failing case, which then runs first; otherwise a fixed seed in CI
/// (<c>CI=true</c>), so every CI run checks the same cases; otherwise a fresh random seed, so local runs keep exploring.
/// </para>
/// <para>
/// <see cref="MaxTestVariable"/> changes how many cases each property checks, for a longer run:
/// a number (<c>5000</c>) replaces every property's own count, a factor (<c>10x</c>) multiplies it.
/// </para>
/// </remarks>
public static partial class PropertyCheck
{
    /// <summary>The environment variable that sets the seed of every property: <c>seed,gamma</c> or <c>seed,gamma,size</c>.</summary>
    public const string SeedVariable = "BLOCKTORRENT_FSCHECK_SEED";

    /// <summary>The environment variable that changes how many cases each property checks: <c>N</c> or <c>Nx</c>.</summary>
    public const string MaxTestVariable = "BLOCKTORRENT_FSCHECK_MAX_TEST";

    // Any pair of numbers serves; what matters is that CI uses the same one every run. The gamma must be odd.
    private static readonly Rnd CiSeed = new(0x5EED_B10C_7022_E47UL, 0x9E37_79B9_7F4A_7C15UL);

    private static readonly Lazy<(Replay Seed, string Source)> ChosenSeed = new(ChooseSeed);

    /// <summary>
    /// Gets seeds for scenarios a property drives with <see cref="System.Random"/>: any 32-bit value, spread evenly. FsCheck's
    /// own integers stay within the size (±100), so a scenario seeded with them would only ever see 201 scenarios.
    /// </summary>
    public static Arbitrary<int> ScenarioSeeds { get; } = Gen.Choose(int.MinValue, int.MaxValue).ToArbitrary();

    /// <summary>Gets the seed every property of this test process starts from, as <c>seed,gamma</c>.</summary>
    public static string Seed => Format(ChosenSeed.Value.Seed);

    /// <summary>
    /// Checks <paramref name="property"/> on <paramref name="maxTest"/> cases (or as many as <see cref="MaxTestVariable"/> says)
    /// from the seed of this run, prints the seed to the test output, and on failure throws with both the seed of the whole
    /// run and FsCheck's replay of the failing case.
    /// </summary>
    /// <param name="property">The property to check.</param>
    /// <param name="maxTest">How many cases to check in an ordinary run.</param>
    /// <param name="endSize">The size the generators grow to, or <see langword="null"/> for FsCheck's default.</param>
    public static void CheckSeeded(this Property property, int maxTest = 100, int? endSize = null)
    {
        ArgumentNullException.ThrowIfNull(property);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxTest);
        (Replay seed, string source) = ChosenSeed.Value;
        int cases = Cases(maxTest, Environment.GetEnvironmentVariable(MaxTestVariable));
        string replay = $"{SeedVariable}={Format(seed)}";
        TestContext.Current.TestOutputHelper?.WriteLine($"FsCheck: {cases} cases from {replay} ({source}).");

        Config config = Config.QuickThrowOnFailure
            .WithMaxTest(cases)
            .WithQuietOnSuccess(true)
            .WithReplay(FSharpOption<Replay>.Some(seed));
        if (endSize is int size)
        {
            config = config.WithEndSize(size);
        }

        try
        {
            Check.One(config, property);
        }
        catch (Exception failure) when (failure is not XunitException)
        {
            // FsCheck's message names the failing case's seed and size apart; put them together as the variable takes them.
            Match last = LastStep().Match(failure.Message);
            string only = last.Success ? $"{SeedVariable}={last.Groups[2].Value},{last.Groups[1].Value} replays the failing case first; " : string.Empty;
            throw new PropertyFailedException(
                $"{failure.Message.TrimEnd()}{Environment.NewLine}{only}{replay} ({source}) with {MaxTestVariable}={cases} replays this run.");
        }
    }

    /// <summary>Parses a seed as printed: <c>seed,gamma</c>, or <c>seed,gamma,size</c>, optionally in parentheses.</summary>
    /// <param name="text">The text to parse.</param>
    /// <param name="seed">The seed, when the text is one.</param>
    /// <returns>Whether <paramref name="text"/> is a seed.</returns>
    public static bool TryParseSeed(string? text, [NotNullWhen(true)] out Replay? seed)
    {
        seed = null;
        string[] parts = (text ?? string.Empty).Trim().Trim('(', ')').Split(',', StringSplitOptions.TrimEntries);
        int size = 0;
        if (parts.Length is < 2 or > 3
            || !ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out ulong value)
            || !ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out ulong gamma)
            || gamma % 2 == 0
            || (parts.Length == 3 && !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out size)))
        {
            return false;
        }

        seed = new Replay(new Rnd(value, gamma), parts.Length == 3 ? FSharpOption<int>.Some(size) : FSharpOption<int>.None);
        return true;
    }

    /// <summary>How many cases a property checks: its own count, unless <paramref name="setting"/> replaces or multiplies it.</summary>
    /// <param name="maxTest">The property's own count.</param>
    /// <param name="setting">The value of <see cref="MaxTestVariable"/>, or <see langword="null"/>.</param>
    /// <returns>The number of cases to check.</returns>
    public static int Cases(int maxTest, string? setting)
    {
        if (string.IsNullOrWhiteSpace(setting))
        {
            return maxTest;
        }

        string text = setting.Trim();
        bool factor = text.EndsWith('x') || text.EndsWith('X');
        if (!int.TryParse(factor ? text[..^1] : text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value <= 0)
        {
            throw new InvalidOperationException($"{MaxTestVariable} must be a positive number of cases (5000) or a factor (10x), not '{setting}'.");
        }

        return factor ? checked(maxTest * value) : value;
    }

    private static (Replay Seed, string Source) ChooseSeed()
    {
        string? set = Environment.GetEnvironmentVariable(SeedVariable);
        if (!string.IsNullOrWhiteSpace(set))
        {
            return TryParseSeed(set, out Replay? seed)
                ? (seed, $"from {SeedVariable}")
                : throw new InvalidOperationException($"{SeedVariable} must be 'seed,gamma' with an odd gamma, as printed by a run, not '{set}'.");
        }

        if (Requires.InCi)
        {
            return (new Replay(CiSeed, FSharpOption<int>.None), "the fixed CI seed");
        }

        Span<byte> random = stackalloc byte[16];
        RandomNumberGenerator.Fill(random);
        ulong value = BitConverter.ToUInt64(random);
        ulong gamma = BitConverter.ToUInt64(random[8..]) | 1;
        return (new Replay(new Rnd(value, gamma), FSharpOption<int>.None), "random; CI uses a fixed seed");
    }

    private static string Format(Replay seed) => FSharpOption<int>.get_IsSome(seed.Size)
        ? string.Create(CultureInfo.InvariantCulture, $"{seed.Rnd.Seed},{seed.Rnd.Gamma},{seed.Size.Value}")
        : string.Create(CultureInfo.InvariantCulture, $"{seed.Rnd.Seed},{seed.Rnd.Gamma}");

    [GeneratedRegex(@"size of (\d+) and seed of \((\d+,\d+)\)", RegexOptions.CultureInvariant)]
    private static partial Regex LastStep();

    /// <summary>A property found a counterexample; the message says how to replay it.</summary>
    private sealed class PropertyFailedException(string message) : XunitException(message);
}
