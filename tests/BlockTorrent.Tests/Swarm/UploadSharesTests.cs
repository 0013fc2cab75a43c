using System.Net;
using System.Net.Sockets;
using BlockTorrent.Swarm;
using BlockTorrent.Testing;
using FsCheck;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Swarm;

public sealed class UploadSharesTests
{
    private const double MB = 1_000_000;

    [Fact]
    public void ALoneUploadingConnectionIsNeverCapped()
    {
        double cap = UploadShares.Cap([new UploadShare(6 * MB, HeldHere: true), new UploadShare(0, HeldHere: true)], out _);
        Assert.Equal(double.PositiveInfinity, cap);
    }

    [Fact]
    public void NothingIsCappedWhileTheConnectionsBelowTheEvenShareAreSlowedFurtherAlong()
    {
        // Two targets on slow links take what they can; the fast one takes the rest and is itself held back here.
        double cap = UploadShares.Cap([new UploadShare(0.2 * MB, false), new UploadShare(0.3 * MB, false), new UploadShare(5.5 * MB, true)], out _);
        Assert.Equal(double.PositiveInfinity, cap);
    }

    [Fact]
    public void AConnectionOurSideHoldsBackBelowTheEvenShareCapsTheLargerSharesByWhatItCanTakeUp()
    {
        // The benchmark's first second: three connections took 3 MB/s each, five got 0.3 MB/s, held back here.
        // The five can grow by a quarter in one interval (0.075 MB/s each), so the three give up as much between them.
        UploadShare[] shares = [.. Enumerable.Repeat(new UploadShare(3 * MB, false), 3), .. Enumerable.Repeat(new UploadShare(0.3 * MB, true), 5)];

        double cap = UploadShares.Cap(shares, out _);

        Assert.Equal((3 - (5 * 0.075 / 3)) * MB, cap, 0.001 * MB);
    }

    [Fact]
    public void TheCapStaysHighEnoughForTheHeldBackConnectionsToMakeUpWhatTheCappedOnesGiveUp()
    {
        // One connection took nearly everything; the one held back here can grow by a quarter in an interval, and the
        // one slowed further along stays where it is. Capping at a quarter above the even share (2.5 MB/s) would
        // leave 3 MB/s of our uplink unused.
        UploadShare[] shares = [new(5.6 * MB, true), new(0.2 * MB, true), new(0.2 * MB, false)];

        double cap = UploadShares.Cap(shares, out _);

        Assert.Equal(6 * MB - (0.25 * MB) - (0.2 * MB), cap, 0.001 * MB);
    }

    [Fact]
    public void TheCapNeverFallsBelowTheMinimum()
    {
        double cap = UploadShares.Cap([new UploadShare(1000, false), new UploadShare(10, true)], out _);
        Assert.Equal(UploadShares.MinimumCap, cap);
    }

    [Fact]
    public void OnAFifoUplinkCappingKeepsTheUplinkNearlyAsFullAndEvensOutTheShares()
    {
        Gen<(double Limit, double Weight)> connection =
            from limited in Gen.Elements(false, false, true)
            from limit in Gen.Choose(1, 3000).Select(x => x * 1000.0)
            from weight in Gen.Choose(1, 25).Select(x => x / 5.0)
            select (limited ? limit : double.PositiveInfinity, weight);
        Gen<(double Link, (double Limit, double Weight)[] Connections)> swarm =
            from link in Gen.Choose(1, 100).Select(x => x * 100_000.0)
            from connections in Gen.ArrayOf(connection).Where(c => c.Length is >= 2 and <= 12)
            select (link, connections);

        Prop.ForAll(swarm.ToArbitrary(), s =>
        {
            (bool holds, string what) = CappingKeepsTheUplinkAndEvensOutTheShares(s.Link, s.Connections);
            return holds.Label(what);
        }).CheckSeeded(maxTest: 1000);
    }

    [Fact]
    public void ALimitedConnectionThatCannotGrowAsTheCapAssumesCostsTheUplinkOnlyWhatItCannotTakeUp()
    {
        // The connection limited further along looks held back at 1.42 of its 1.456 MB/s, so the cap counts on it
        // growing by a quarter; it grows by 0.03, and the uplink carries 96.6 % while the cap is on.
        (bool holds, string what) = CappingKeepsTheUplinkAndEvensOutTheShares(4.8 * MB, [(double.PositiveInfinity, 3.8), (1.456 * MB, 1.6)]);
        Assert.True(holds, what);
    }

    [Fact]
    public void TwoLimitedConnectionsThatCannotGrowAsTheCapAssumesMayCostMoreThanATenthUntilTheGuardLiftsTheCap()
    {
        // Both limited connections grow towards their limits while the cap falls after them; in the fourth interval the
        // uplink carries 89.6 %, before the guard has judged the cap.
        (bool holds, string what) = CappingKeepsTheUplinkAndEvensOutTheShares(9.1 * MB, [(double.PositiveInfinity, 3.2), (1.706 * MB, 0.4), (2.637 * MB, 0.6)]);
        Assert.True(holds, what);
    }

    /// <summary>
    /// Runs a FIFO uplink for 60 intervals with the cap and its guard, and says whether it stays nearly as full as
    /// uncapped and evens out the shares, with what happened.
    /// </summary>
    private static (bool Holds, string What) CappingKeepsTheUplinkAndEvensOutTheShares(double link, (double Limit, double Weight)[] connections)
    {
        double[] limits = [.. connections.Select(c => c.Limit)];
        double[] weights = [.. connections.Select(c => c.Weight)];
        double[] uncapped = Uplink.Share(link, limits, weights, double.PositiveInfinity);
        double full = uncapped.Sum();
        // The connections our uplink limits (not their limits further along): the ones whose shares should even out.
        var limitedHere = Enumerable.Range(0, limits.Length).Where(i => uncapped[i] < limits[i] * 0.999).ToArray();

        // A connection that looks held back but sits under a limit further along cannot grow by the headroom as the
        // cap assumes: it costs up to the headroom's part of its rate while the cap is on, which the guard lets stand
        // until it has judged the cap, and after that as long as the total stays above its kept fraction.
        double mayCost = limitedHere.Where(i => !double.IsPositiveInfinity(limits[i])).Sum(i => (UploadShares.Headroom - 1) * limits[i]);
        double floor = Math.Min(UploadShares.KeptFraction * full, full - mayCost);

        double cap = double.PositiveInfinity;
        double[] rates = uncapped;
        var guard = default(CapGuard);
        double carried = 0;
        for (int interval = 0; interval < 60; interval++)
        {
            rates = Uplink.Share(link, limits, weights, cap);
            if (rates.Sum() < floor)
            {
                return (false, $"interval {interval} carried {rates.Sum():F0} of {full:F0} B/s under a cap of {cap:F0}");
            }

            carried += rates.Sum();
            UploadShare[] shares = [.. rates.Select((r, i) => new UploadShare(r, HeldHere: r < Math.Min(limits[i], cap) * 0.999))];
            cap = guard.Next(shares);
        }

        // Without such a connection the uplink stays nearly as full on average.
        bool kept = carried / 60 >= (0.97 * full) - mayCost;
        // Evened out: the largest share is no larger, and the smallest our uplink set is no smaller.
        bool evened = rates.Max() <= uncapped.Max() * 1.001
            && (limitedHere.Length == 0 || limitedHere.Min(i => rates[i]) >= limitedHere.Min(i => uncapped[i]) * 0.999);
        return (kept && evened, $"limits {string.Join(' ', limits.Select(l => l.ToString("F0")))}; carried {carried / 60:F0} of {full:F0} B/s; shares {string.Join(' ', rates.Select(r => r.ToString("F0")))} from {string.Join(' ', uncapped.Select(r => r.ToString("F0")))}");
    }

    [Fact]
    public void TheBenchmarksFirstSecondEvensOutWithinTenIntervals()
    {
        // Three connections the FIFO favours ten to one, five it does not, none limited further along.
        double[] limits = [.. Enumerable.Repeat(double.PositiveInfinity, 8)];
        double[] weights = [5, 5, 5, 0.5, 0.5, 0.5, 0.5, 0.5];
        double cap = double.PositiveInfinity;
        double[] rates = [];
        for (int interval = 0; interval < 10; interval++)
        {
            rates = Uplink.Share(6 * MB, limits, weights, cap);
            cap = UploadShares.Cap([.. rates.Select(r => new UploadShare(r, HeldHere: r < cap * 0.999))], out _);
        }

        double even = 6 * MB / 8;
        string shares = string.Join(' ', rates.Select(r => (r / MB).ToString("F2")));
        Assert.Equal(6 * MB, rates.Sum(), 0.001 * MB);
        Assert.True(rates.Max() <= UploadShares.Headroom * even * 1.001, $"no share of {shares} MB/s is over a quarter above the even share");
        Assert.True(rates.Min() >= 0.8 * even, $"every share of {shares} MB/s is at least four fifths of the even share (it was under a quarter)");
    }

    [Fact]
    public void ACapThatCostsATenthOfTheUploadIsLiftedForAWhile()
    {
        var guard = default(CapGuard);
        Assert.Equal(5.0, guard.Apply(5, total: 100));
        for (int i = 1; i < UploadShares.ProofIntervals; i++)
        {
            Assert.Equal(5.0, guard.Apply(5, total: 80));
        }

        Assert.Equal(double.PositiveInfinity, guard.Apply(5, total: 89));
        for (int i = 0; i < UploadShares.LiftedIntervals; i++)
        {
            Assert.Equal(double.PositiveInfinity, guard.Apply(5, total: 100));
        }

        Assert.Equal(5.0, guard.Apply(5, total: 100));
    }

    [Fact]
    public void ACapThatKeepsTheUploadStaysOn()
    {
        var guard = default(CapGuard);
        for (int i = 0; i < 10 * UploadShares.ProofIntervals; i++)
        {
            Assert.Equal(5.0, guard.Apply(5, total: i % 2 == 0 ? 100 : 91));
        }
    }

    [Fact]
    public void WithoutACapThereIsNothingToLift()
    {
        var guard = default(CapGuard);
        for (int i = 0; i < 3 * UploadShares.ProofIntervals; i++)
        {
            Assert.Equal(double.PositiveInfinity, guard.Apply(double.PositiveInfinity, total: 100 - i));
        }

        Assert.Equal(5.0, guard.Apply(5, total: 50));
    }

    [Fact]
    public void APacingCapSetOnASocketReadsBackAndLifts()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "SO_MAX_PACING_RATE is a Linux socket option.");
        using var socket = PeerSockets.Create(AddressFamily.InterNetwork, congestionControl: null);
        Assert.Equal(ulong.MaxValue, PeerSockets.GetMaxPacingRate(socket));

        Assert.True(PeerSockets.TrySetMaxPacingRate(socket, 750_000));
        Assert.Equal(750_000UL, PeerSockets.GetMaxPacingRate(socket));
        Assert.True(PeerSockets.TrySetMaxPacingRate(socket, ulong.MaxValue));
        Assert.Equal(ulong.MaxValue, PeerSockets.GetMaxPacingRate(socket));
        socket.Dispose();
        Assert.False(PeerSockets.TrySetMaxPacingRate(socket, 750_000), "a closed socket takes none");
    }

    [Fact]
    public async Task AConnectionWhoseReceiverStopsReadingShowsDataWaitingAndTheReceiversWindowHoldingItBack()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "TCP_INFO is a Linux socket option.");
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var socket = PeerSockets.Create(AddressFamily.InterNetwork, congestionControl: null);
        await socket.ConnectAsync(listener.LocalEndPoint!, ct);
        using var accepted = await listener.AcceptAsync(ct);

        Assert.True(PeerSockets.TryGetSendState(socket, out SendState idle));
        Assert.Equal(0, idle.Unsent);
        Assert.False(idle.HeldHere, "an idle connection has nothing waiting");
        Assert.True(idle.CongestionWindow > 0);

        // Nothing reads on the other end: the receiver's window fills, and the rest waits unsent.
        Task send = socket.SendAsync(new byte[32 << 20], ct).AsTask();
        SendState state = default;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!(PeerSockets.TryGetSendState(socket, out state) && state.Unsent > 0 && state.ReceiveWindowLimited > TimeSpan.Zero))
        {
            Assert.True(DateTime.UtcNow < deadline, $"within 10 s the kernel shows data waiting and the window holding it back (last: {state})");
            await Task.Delay(10, ct);
        }

        Assert.False(send.IsCompleted);
        socket.Dispose();
        Assert.False(PeerSockets.TryGetSendState(socket, out _), "a closed socket has none");
        await Assert.ThrowsAnyAsync<Exception>(() => send);
    }

    /// <summary>An uplink shared like a FIFO queue, as a fluid: each connection's share follows its weight.</summary>
    private static class Uplink
    {
        /// <summary>
        /// Shares the link: each connection gets a part in proportion to its weight, up to what it can take (its limit
        /// further along and the cap); what one cannot take goes to the others.
        /// </summary>
        public static double[] Share(double link, double[] limits, double[] weights, double cap)
        {
            double[] rates = new double[limits.Length];
            var open = new HashSet<int>(Enumerable.Range(0, limits.Length));
            double left = link;
            while (open.Count > 0 && left > 1e-9)
            {
                double perWeight = left / open.Sum(i => weights[i]);
                int[] full = [.. open.Where(i => Math.Min(limits[i], cap) - rates[i] <= perWeight * weights[i])];
                if (full.Length == 0)
                {
                    foreach (int i in open)
                    {
                        rates[i] += perWeight * weights[i];
                    }

                    break;
                }

                foreach (int i in full)
                {
                    left -= Math.Min(limits[i], cap) - rates[i];
                    rates[i] = Math.Min(limits[i], cap);
                    open.Remove(i);
                }
            }

            return rates;
        }
    }
}
