#!/usr/bin/perl
# bench/sql/check.pl LOG FILE… — do the statements in FILE… (pgbench syntax) appear,
# word for word, among those the server executed according to the PostgreSQL log LOG
# (log_statement = all)? Prints the ones that do not and exits 1; exits 0 when all do.
# Run by bench/pages, so the SQL floors cannot drift away from what the server sends.
use strict;
use warnings;

my ($log, @files) = @ARGV;
my %sent;
open(my $fh, '<', $log) or die "check.pl: $log: $!\n";
while (<$fh>) {
	$sent{$1} = 1 if /execute [^:]+: (.*?)\s*$/;
}
close $fh;

my $bad = 0;
for my $file (@files) {
	open(my $f, '<', $file) or die "check.pl: $file: $!\n";
	local $/;
	my $sql = <$f>;
	close $f;
	$sql =~ s/;\s*$//;
	$sql =~ s/^\s+|\s+$//g;
	# E'…\x3a…' is how the files spell a colon inside a constant.
	$sql =~ s/E'([^']*)'/my $c = $1; $c =~ s{\\x3a}{:}g; "'$c'"/ge;
	# NULL/*param NAME*/: the server binds NULL there (pgbench -D cannot pass one).
	$sql =~ s{NULL/\*param ([a-z_]+)\*/}{:$1}g;
	# pgbench variables become $1, $2… in order of first use, as the server numbers them.
	my (%num, $n);
	$n = 0;
	$sql =~ s{(?<!:):([a-z_]+)\b}{'$' . ($num{$1} //= ++$n)}ge;
	next if $sent{$sql};
	print "not sent by the server: $file\n  $sql\n";
	$bad = 1;
}
exit $bad;
