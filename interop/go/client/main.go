// go-echo-client: stock grpc-go (Debian golang-google-grpc-dev) calling
// grpc.examples.echo.Echo/UnaryEcho over credentials/alts, with the handshake delegated to the
// handshaker service at --handshakerService. On success it logs the server's and its own
// service account (alts.AuthInfoFromPeer) and prints the reply:
//
//	2006/01/02 15:04:05 AuthInfo PeerServiceAccount: alts-server@P.iam.gserviceaccount.com
//	2006/01/02 15:04:05 AuthInfo LocalServiceAccount: alts-client@P.iam.gserviceaccount.com
//	UnaryEcho:  hello world                                   (stdout)
//
// On failure it prints `client: error: <error> (after <seconds>s)` and exits 1. grpc-go turns
// ALTS on only on Google Cloud; run it under interop/ns-run.sh off Google Cloud.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	pb "altsinterop/echo"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/alts"
	"google.golang.org/grpc/peer"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "server address")
	target := flag.String("targetServiceAccount", "", "comma-separated service accounts the server may have (empty: any)")
	handshaker := flag.String("handshakerService", "metadata.google.internal.:8080", "ALTS handshaker service address")
	message := flag.String("message", "hello world", "message to echo")
	timeout := flag.Duration("timeout", 10*time.Second, "deadline of the RPC")
	flag.Parse()

	opts := alts.DefaultClientOptions()
	opts.HandshakerServiceAddress = *handshaker
	if *target != "" {
		opts.TargetServiceAccounts = strings.Split(*target, ",")
	}
	started := time.Now()
	fail := func(err error) {
		fmt.Fprintf(os.Stderr, "client: error: %v (after %.3fs)\n", err, time.Since(started).Seconds())
		os.Exit(1)
	}
	conn, err := grpc.Dial(*addr, grpc.WithTransportCredentials(alts.NewClientCreds(opts)))
	if err != nil {
		fail(err)
	}
	defer conn.Close()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var p peer.Peer
	reply, err := pb.NewEchoClient(conn).UnaryEcho(ctx, &pb.EchoRequest{Message: *message}, grpc.Peer(&p))
	if err != nil {
		fail(err)
	}
	info, err := alts.AuthInfoFromPeer(&p)
	if err != nil {
		fail(err)
	}
	log.Printf("AuthInfo PeerServiceAccount: %s", info.PeerServiceAccount())
	log.Printf("AuthInfo LocalServiceAccount: %s", info.LocalServiceAccount())
	fmt.Printf("UnaryEcho:  %s\n", reply.GetMessage())
}
