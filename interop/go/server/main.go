// go-echo-server: stock grpc-go (Debian golang-google-grpc-dev) serving the grpc.examples.echo
// Echo service over credentials/alts, with the handshake delegated to the handshaker service at
// --handshakerService. For each RPC it logs the peer's and its own service account from
// alts.AuthInfoFromContext, in the same form as swift-alts' `server`:
//
//	2006/01/02 15:04:05 AuthInfo PeerServiceAccount: alts-client@P.iam.gserviceaccount.com
//	2006/01/02 15:04:05 AuthInfo LocalServiceAccount: alts-server@P.iam.gserviceaccount.com
//
// grpc-go turns ALTS on only on Google Cloud (/sys/class/dmi/id/product_name); run it under
// interop/ns-run.sh off Google Cloud.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"strings"

	pb "altsinterop/echo"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/alts"
)

type echoServer struct {
	pb.UnimplementedEchoServer
	allowed []string
}

func (s *echoServer) UnaryEcho(ctx context.Context, req *pb.EchoRequest) (*pb.EchoResponse, error) {
	info, err := alts.AuthInfoFromContext(ctx)
	if err != nil {
		log.Printf("AuthInfo error: %v", err)
		return nil, err
	}
	log.Printf("AuthInfo PeerServiceAccount: %s", info.PeerServiceAccount())
	log.Printf("AuthInfo LocalServiceAccount: %s", info.LocalServiceAccount())
	if len(s.allowed) > 0 {
		if err := alts.ClientAuthorizationCheck(ctx, s.allowed); err != nil {
			log.Printf("AuthInfo refused: %v", err)
			return nil, err
		}
	}
	return &pb.EchoResponse{Message: req.GetMessage()}, nil
}

func main() {
	bind := flag.String("bind", "127.0.0.1", "address to listen on")
	port := flag.Int("port", 50051, "port to listen on (0 picks one)")
	handshaker := flag.String("handshakerService", "metadata.google.internal.:8080", "ALTS handshaker service address")
	allowed := flag.String("allowedClientServiceAccounts", "", "comma-separated client accounts that may call (empty: any)")
	flag.Parse()

	listener, err := net.Listen("tcp", net.JoinHostPort(*bind, fmt.Sprint(*port)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "server: error: %v\n", err)
		os.Exit(1)
	}
	opts := alts.DefaultServerOptions()
	opts.HandshakerServiceAddress = *handshaker
	server := grpc.NewServer(grpc.Creds(alts.NewServerCreds(opts)))
	service := &echoServer{}
	if *allowed != "" {
		service.allowed = strings.Split(*allowed, ",")
	}
	pb.RegisterEchoServer(server, service)
	log.Printf("listening on %s with handshaker %s", listener.Addr(), *handshaker)
	if err := server.Serve(listener); err != nil {
		fmt.Fprintf(os.Stderr, "server: error: %v\n", err)
		os.Exit(1)
	}
}
