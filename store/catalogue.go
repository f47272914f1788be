package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/hookflow/hookflow/models"
)

// catalogue is the event catalogue Hookflow ships with: the common commerce events, in
// Fynd's category/name/type/vN form, each with a realistic sample payload that the
// validate endpoints and the dashboard use.
var catalogue = []struct {
	slug, display, description, sample string
}{
	{"application/order/placed/v1", "Order placed", "A customer placed an order (order created).", sampleOrder("placed")},
	{"application/order/update/v1", "Order updated", "An order changed: items, address or status.", sampleOrder("confirmed")},
	{"application/order/fulfilled/v1", "Order fulfilled", "Every item of an order was shipped.", sampleOrder("fulfilled")},
	{"application/order/cancelled/v1", "Order cancelled", "An order was cancelled by the customer or the seller.", sampleOrder("cancelled")},
	{"company/product/create/v1", "Product created", "A product was added to the catalogue.", sampleProduct(12)},
	{"company/product/update/v1", "Product updated", "A product's details, prices or media changed.", sampleProduct(7)},
	{"company/product/delete/v1", "Product deleted", "A product was removed from the catalogue.", `{"uid":7501,"slug":"air-zoom-pegasus-40","brand":{"uid":238,"name":"Nike"},"deleted_at":"2024-05-02T10:15:00Z"}`},
	{"company/product/inventory_update/v1", "Product inventory updated", "Stock of a product's size changed at a store.", `{"uid":7501,"item_code":"NK-PEG40-BLK","brand":{"uid":238,"name":"Nike"},"size":"UK 9","store":{"uid":1021,"code":"BLR-01"},"quantity":{"previous":12,"current":11},"updated_at":"2024-05-02T10:15:00Z"}`},
	{"application/customer/create/v1", "Customer created", "A customer signed up.", sampleCustomer},
	{"application/customer/update/v1", "Customer updated", "A customer's profile changed.", sampleCustomer},
	{"application/customer/delete/v1", "Customer deleted", "A customer's account was deleted.", `{"user_id":"66f1c2a9b0e4a1d2c3b4a5f6","deleted_at":"2024-05-02T10:15:00Z","reason":"customer_request"}`},
	{"application/payment/completed/v1", "Payment completed", "A payment was captured.", samplePayment("completed", "")},
	{"application/payment/failed/v1", "Payment failed", "A payment attempt failed.", samplePayment("failed", `,"failure":{"code":"card_declined","message":"The card was declined."}`)},
	{"application/payment/refunded/v1", "Payment refunded", "A payment was refunded in full or in part.", samplePayment("refunded", `,"refund":{"id":"rfnd_Nx81","amount":2499.5,"reason":"size_exchange"}`)},
	{"application/shipment/label_created/v1", "Shipping label created", "A shipping label was generated for a shipment.", sampleShipment("label_created")},
	{"application/shipment/tracking_update/v1", "Shipment tracking updated", "The carrier reported a new tracking status.", sampleShipment("in_transit")},
	{"application/shipment/delivered/v1", "Shipment delivered", "The carrier delivered the shipment.", sampleShipment("delivered")},
}

func sampleProduct(stock int) string {
	return fmt.Sprintf(`{"uid":7501,"item_code":"NK-PEG40-BLK","name":"Air Zoom Pegasus 40","slug":"air-zoom-pegasus-40",`+
		`"brand":{"uid":238,"name":"Nike","logo":"https://cdn.example.com/brands/nike.png"},`+
		`"category":{"uid":31,"name":"Running Shoes","slug":"running-shoes"},`+
		`"price":{"currency":"INR","marked":11995,"effective":9596,"discount_percent":20},`+
		`"sizes":[{"size":"UK 8","quantity":%d,"sellable":true},{"size":"UK 9","quantity":3,"sellable":true}],`+
		`"images":["https://cdn.example.com/p/7501/1.jpg","https://cdn.example.com/p/7501/2.jpg"],`+
		`"tags":["running","men"],"is_active":true,"created_on":"2024-05-01T09:30:00Z","modified_on":"2024-05-02T10:15:00Z"}`, stock)
}

func sampleOrder(status string) string {
	return fmt.Sprintf(`{"order_id":"FY6633A1B2C3D4E5F6","status":%q,"application_id":"000000000000000000000001",`+
		`"customer":{"user_id":"66f1c2a9b0e4a1d2c3b4a5f6","first_name":"Asha","last_name":"Rao","email":"asha@example.com","phone":"+919800000001"},`+
		`"items":[{"item_id":7501,"name":"Air Zoom Pegasus 40","brand":{"uid":238,"name":"Nike"},"size":"UK 9","quantity":1,"price":9596}],`+
		`"shipping_address":{"city":"Bengaluru","state":"Karnataka","pincode":"560001","country":"IN"},`+
		`"total":{"currency":"INR","amount":9596,"tax":1464,"shipping":0},"payment_mode":"PREPAID","created_on":"2024-05-02T10:15:00Z"}`, status)
}

const sampleCustomer = `{"user_id":"66f1c2a9b0e4a1d2c3b4a5f6","first_name":"Asha","last_name":"Rao",` +
	`"emails":[{"email":"asha@example.com","primary":true,"verified":true}],` +
	`"phone_numbers":[{"phone":"+919800000001","primary":true,"verified":true}],` +
	`"gender":"female","account_type":"user","created_at":"2024-04-11T08:00:00Z","updated_at":"2024-05-02T10:15:00Z"}`

func samplePayment(status, extra string) string {
	return fmt.Sprintf(`{"payment_id":"pay_Nx81Kq2","order_id":"FY6633A1B2C3D4E5F6","status":%q,"amount":9596,"currency":"INR",`+
		`"method":{"type":"card","network":"visa","last4":"4242"},"gateway":"razorpay","captured_at":"2024-05-02T10:16:00Z"%s}`, status, extra)
}

func sampleShipment(status string) string {
	return fmt.Sprintf(`{"shipment_id":"16843920123456789","order_id":"FY6633A1B2C3D4E5F6","status":%q,`+
		`"courier":{"name":"Delhivery","awb":"DLV8812345678"},"tracking_url":"https://track.example.com/DLV8812345678",`+
		`"bags":[{"item_id":7501,"quantity":1}],"eta":"2024-05-05","updated_at":"2024-05-03T14:00:00Z"}`, status)
}

// seedCatalogue inserts the shipped catalogue entries that are missing through db (Migrate's
// transaction); entries an operator edited are left alone.
func seedCatalogue(db *gorm.DB) error {
	rows := make([]models.EventType, 0, len(catalogue))
	for _, c := range catalogue {
		slug, err := models.ParseSlug(c.slug)
		if err != nil {
			return fmt.Errorf("catalogue entry %s: %w", c.slug, err)
		}
		rows = append(rows, models.EventType{
			Slug: c.slug, Category: slug.Category, Name: slug.Name, Type: slug.Type, Version: slug.Version,
			DisplayName: c.display, Description: c.description, SamplePayload: models.JSON(c.sample),
		})
	}
	return db.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "slug"}}, DoNothing: true}).Create(&rows).Error
}

// ListEventTypes returns the event catalogue ordered by slug.
func (s *Store) ListEventTypes(ctx context.Context) ([]models.EventType, error) {
	var types []models.EventType
	if err := s.rdb.WithContext(ctx).Order("slug").Find(&types).Error; err != nil {
		return nil, dbError(err, "")
	}
	return types, nil
}

// missingEventTypes returns the slugs that are not in the catalogue.
func (s *Store) missingEventTypes(ctx context.Context, slugs []string) ([]string, error) {
	var found []string
	if err := s.rdb.WithContext(ctx).Model(&models.EventType{}).Where("slug IN ?", slugs).Pluck("slug", &found).Error; err != nil {
		return nil, dbError(err, "")
	}
	have := make(map[string]bool, len(found))
	for _, f := range found {
		have[f] = true
	}
	var missing []string
	for _, s := range slugs {
		if !have[s] {
			missing = append(missing, s)
		}
	}
	return missing, nil
}
