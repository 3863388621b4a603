ALTER TYPE "public"."member_source" ADD VALUE 'domain';--> statement-breakpoint
CREATE TABLE "past_memberships" (
	"org_id" uuid NOT NULL,
	"account_id" uuid NOT NULL,
	"how" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "past_memberships_org_id_account_id_pk" PRIMARY KEY("org_id","account_id")
);
--> statement-breakpoint
ALTER TABLE "past_memberships" ADD CONSTRAINT "past_memberships_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "past_memberships" ADD CONSTRAINT "past_memberships_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;