#!/usr/bin/perl
# Build the lab's MaxMind DB from its source file.
#   make-geo-db.pl SOURCE.json OUT.mmdb
# SOURCE.json: { "database_type": "...", "alias_ipv6_to_ipv4": bool (default
# true), "networks": [ { "network": CIDR, "record": { ...MaxMind layout... } },
# ... ] }. Keys of maps may be any of
# %TYPES below; add a key there before using it in the source.
# The lab uses documentation ranges (RFC 5737, RFC 3849), which the writer
# removes unless remove_reserved_networks => 0.
use strict;
use warnings;

use JSON::PP ();
use MaxMind::DB::Writer::Tree;

die "usage: $0 SOURCE.json OUT.mmdb\n" unless @ARGV == 2;
my ( $src, $out ) = @ARGV;

my %TYPES = (
    country      => 'map',
    subdivisions => [ 'array', 'map' ],
    iso_code     => 'utf8_string',
    names        => 'map',
    en           => 'utf8_string',
);

open my $in, '<:raw', $src or die "$src: $!\n";
my $json = do { local $/; <$in> };
close $in;
my $data = eval { JSON::PP->new->decode($json) };
die "$src: not valid JSON: $@" unless $data;
die "$src: no \"networks\" list\n" unless ref $data->{networks} eq 'ARRAY';

my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version               => 6,
    record_size              => 24,
    database_type            => $data->{database_type} // 'egw-lab-geo',
    languages                => ['en'],
    description              => { en => 'egw test-lab geo database' },
    remove_reserved_networks => 0,
    # Like MaxMind's own databases: ::ffff:0:0/96 and 2002::/16 lead to the
    # IPv4 tree, so the geo compiler's alias detection is exercised. A
    # source may turn it off ("alias_ipv6_to_ipv4": false).
    alias_ipv6_to_ipv4       => ( $data->{alias_ipv6_to_ipv4} // 1 ) ? 1 : 0,
    map_key_type_callback    => sub {
        my $t = $TYPES{ $_[0] };
        die "$src: key \"$_[0]\" has no type in make-geo-db.pl\n" unless $t;
        return $t;
    },
);

my $i = 0;
for my $n ( @{ $data->{networks} } ) {
    $i++;
    die "$src: network #$i: needs \"network\" and \"record\"\n"
        unless defined $n->{network} && ref $n->{record} eq 'HASH';
    # The writer places dotted-quad networks in the IPv4 subtree (::/96).
    $tree->insert_network( $n->{network}, $n->{record} );
}

open my $fh, '>:raw', "$out.tmp" or die "$out.tmp: $!\n";
$tree->write_tree($fh);
close $fh or die "$out.tmp: $!\n";
rename "$out.tmp", $out or die "$out: $!\n";
